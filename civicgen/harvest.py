"""Catalogues that data portals harvest: catalog.jsonld (DCAT-AP) and data.json (DCAT-US 1.1).

Both list every package as a dataset and every published file as a distribution (the data,
the descriptor), plus each package's derived statistics as a dataset of its own. Addresses
are absolute, from `site_url` in mkdocs.yml; without it there is no address to give, so
both files are left out (documented skip: the build says so in its log, and the portal
works as before). Dates come from git (the package folder's first and last commits, within
the history the portal reads), never from the clock: two builds give the same bytes.
"""

from __future__ import annotations

import gzip
import json
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import get_plugin_logger
from mkdocs.utils import get_build_timestamp

from .exceptions import SiteConfigError
from .model import Package
from .site.inputs import SiteInputs
from .site.pages import Output, package_uri, published_path

log = get_plugin_logger(__name__)
CATALOG_JSONLD = "catalog.jsonld"
DATA_JSON = "data.json"
MEDIA_TYPES = {"csv": "text/csv", "json": "application/json", "geojson": "application/geo+json"}
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
IANA = "https://www.iana.org/assignments/media-types/"
POD_SCHEMA = "https://project-open-data.cio.gov/v1.1/schema"
CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "prov": "http://www.w3.org/ns/prov#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
}


@dataclass(frozen=True)
class Distribution:
    url: str
    title: str
    media_type: str

    @property
    def format(self) -> str:
        """CSV, JSON…: the file's extension, as the catalogues name formats."""
        return posixpath.splitext(self.url)[1].lstrip(".").upper() or "BIN"


@dataclass(frozen=True)
class Entry:
    """One dataset of the catalogues, in plain values."""

    url: str  # its page on the portal: identifier and landing page
    title: str
    description: str
    keywords: tuple[str, ...]
    licence: str  # a URL, or ""
    licence_title: str
    publisher: str
    issued: str  # YYYY-MM-DD from git, or ""
    modified: str
    distributions: tuple[Distribution, ...]
    derived_from: str = ""  # the dataset a statistics dataset is computed from


def absolute(site_url: str, uri: str) -> str:
    return site_url + quote(uri)


def media_type(path: str, declared: object = None) -> str:
    if isinstance(declared, str) and "/" in declared:
        return declared
    extension = posixpath.splitext(path)[1].lstrip(".").lower()
    return MEDIA_TYPES.get(extension, "application/octet-stream")


def licence_of(package: Package) -> tuple[str, str]:
    """The first licence's URL (path) and title, as the descriptor gives them."""
    licences = package.descriptor.get("licenses") or [{}]
    first = licences[0] if isinstance(licences[0], dict) else {}
    url = str(first.get("path") or "")
    title = str(first.get("title") or first.get("name") or url)
    return (url if url.startswith(("https://", "http://")) else "", title)


def publisher_of(package: Package, fallback: str) -> str:
    for person in package.descriptor.get("contributors") or []:
        if isinstance(person, dict) and person.get("role") == "publisher" and person.get("title"):
            return str(person["title"])
    return fallback


def dates_of(inputs: SiteInputs, name: str) -> tuple[str, str]:
    """First and last commit dates of the package's folder (newest first in the history)."""
    history = inputs.histories.get(name) or []
    return (history[-1].date, history[0].date) if history else ("", "")


def package_entry(inputs: SiteInputs, package: Package, site_url: str, publisher: str) -> Entry:
    tables = [t for t in inputs.validation.tables.values() if t.package.name == package.name]
    files = [
        Distribution(
            absolute(site_url, published_path(package, t.resource)),
            t.resource.title,
            media_type(t.resource.path, (t.resource.descriptor or {}).get("mediatype")),
        )
        for t in tables
    ]
    descriptor = Distribution(
        absolute(site_url, f"{package_uri(package)}/datapackage.json"),
        "Data Package descriptor (datapackage.json)",
        "application/json",
    )
    return entry(inputs, package, site_url, publisher, (*files, descriptor))


def entry(
    inputs: SiteInputs,
    package: Package,
    site_url: str,
    publisher: str,
    distributions: tuple[Distribution, ...],
) -> Entry:
    keywords = package.descriptor.get("keywords") or []
    licence, licence_title = licence_of(package)
    issued, modified = dates_of(inputs, package.name)
    return Entry(
        url=absolute(site_url, f"{package_uri(package)}/"),
        title=package.title,
        description=str(package.descriptor.get("description") or package.title),
        keywords=tuple(str(k) for k in keywords if isinstance(k, str) and k.strip()),
        licence=licence,
        licence_title=licence_title,
        publisher=publisher_of(package, publisher),
        issued=issued,
        modified=modified,
        distributions=distributions,
    )


def stats_entry(base: Entry, package: Package, site_url: str, uris: list[str]) -> Entry:
    """The derived statistics of a package, as a dataset computed from it."""
    files = tuple(
        Distribution(absolute(site_url, uri), posixpath.basename(uri), media_type(uri))
        for uri in uris
    )
    return Entry(
        **{
            **base.__dict__,
            "url": absolute(site_url, f"{package_uri(package)}/stats/datapackage.json"),
            "title": f"{package.title}: statistics",
            "description": f"Statistics computed by civicgen from the dataset “{package.title}”.",
            "distributions": files,
            "derived_from": base.url,
        }
    )


def entries(
    inputs: SiteInputs, outputs: list[Output], site_url: str, publisher: str
) -> list[Entry]:
    """Every package, then its statistics package when it has one."""
    found: list[Entry] = []
    uris = [o.uri for o in outputs]
    for _, package in sorted(inputs.packages.items()):
        base = package_entry(inputs, package, site_url, publisher)
        found.append(base)
        stats = sorted(u for u in uris if u.startswith(f"{package_uri(package)}/stats/"))
        if stats:
            found.append(stats_entry(base, package, site_url, stats))
    return found


# --- DCAT-AP (JSON-LD) -----------------------------------------------------------------


def date(value: str) -> dict[str, str]:
    return {"@value": value, "@type": "xsd:date"}


def agent(name: str, site_url: str) -> dict[str, Any]:
    return {"@id": f"{site_url}#publisher-{quote(name)}", "@type": "foaf:Agent", "foaf:name": name}


def distribution_node(dist: Distribution, licence: str) -> dict[str, Any]:
    node: dict[str, Any] = {
        "@id": f"{dist.url}#distribution",
        "@type": "dcat:Distribution",
        "dct:title": dist.title,
        "dcat:accessURL": {"@id": dist.url, "@type": "rdfs:Resource"},
        "dcat:downloadURL": {"@id": dist.url, "@type": "rdfs:Resource"},
        "dcat:mediaType": {"@id": IANA + dist.media_type, "@type": "dct:MediaType"},
        "dct:format": {"@id": EU_FILE_TYPE + dist.format, "@type": "dct:MediaTypeOrExtent"},
    }
    if licence:
        node["dct:license"] = {"@id": licence, "@type": "dct:LicenseDocument"}
    return node


def dataset_node(item: Entry, site_url: str) -> dict[str, Any]:
    node: dict[str, Any] = {
        "@id": item.url,
        "@type": "dcat:Dataset",
        "dct:identifier": item.url,
        "dct:title": item.title,
        "dct:description": item.description,
        "dcat:keyword": list(item.keywords),
        "dct:publisher": agent(item.publisher, site_url),
        "dcat:landingPage": {"@id": item.url, "@type": "foaf:Document"},
        "dcat:distribution": [distribution_node(d, item.licence) for d in item.distributions],
    }
    node.update(
        {
            f"dct:{k}": date(v)
            for k, v in (("issued", item.issued), ("modified", item.modified))
            if v
        }
    )
    if item.derived_from:
        node["prov:wasDerivedFrom"] = {"@id": item.derived_from}
    return node


def dcat_ap(found: list[Entry], site: dict[str, str]) -> dict[str, Any]:
    catalog: dict[str, Any] = {
        "@id": site["url"] + CATALOG_JSONLD,
        "@type": "dcat:Catalog",
        "dct:title": site["name"],
        "dct:description": site["description"] or site["name"],
        "dct:publisher": agent(site["publisher"], site["url"]),
        "foaf:homepage": {"@id": site["url"], "@type": "foaf:Document"},
        "dcat:dataset": [dataset_node(item, site["url"]) for item in found],
    }
    modified = max((i.modified for i in found if i.modified), default="")
    if modified:
        catalog["dct:modified"] = date(modified)
    return {"@context": CONTEXT, "@graph": [catalog]}


# --- DCAT-US 1.1 (Project Open Data data.json) -----------------------------------------


def pod_dataset(item: Entry) -> dict[str, Any]:
    dataset: dict[str, Any] = {
        "@type": "dcat:Dataset",
        "title": item.title,
        "description": item.description,
        "keyword": list(item.keywords) or [item.title],
        "publisher": {"@type": "org:Organization", "name": item.publisher},
        "contactPoint": {"@type": "vcard:Contact", "fn": item.publisher},
        "identifier": item.url,
        "accessLevel": "public",
        "landingPage": item.url,
        "distribution": [
            {
                "@type": "dcat:Distribution",
                "title": d.title,
                "downloadURL": d.url,
                "mediaType": d.media_type,
                "format": d.format,
            }
            for d in item.distributions
        ],
    }
    dataset.update({k: v for k, v in (("issued", item.issued), ("modified", item.modified)) if v})
    if item.licence:
        dataset["license"] = item.licence
    if item.derived_from:
        dataset["references"] = [item.derived_from]
    return dataset


def data_json(found: list[Entry], site: dict[str, str]) -> dict[str, Any]:
    return {
        "@context": f"{POD_SCHEMA}/catalog.jsonld",
        "@id": site["url"] + DATA_JSON,
        "@type": "dcat:Catalog",
        "conformsTo": POD_SCHEMA,
        "describedBy": f"{POD_SCHEMA}/catalog.json",
        "dataset": [pod_dataset(item) for item in found],
    }


def dumps(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def site_facts(config: MkDocsConfig) -> dict[str, str]:
    name = str(config.site_name or "")
    return {
        "url": str(config.site_url or ""),
        "name": name,
        "description": str(config.site_description or ""),
        "publisher": str(config.site_author or name),
    }


UNSAFE_URL = re.compile(r"[\x00-\x20<>\"'`{}|\\^\x7f]")


def checked_site_url(url: str) -> str:
    """site_url as a base for every address: an http(s) address, ending with /."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or UNSAFE_URL.search(url):
        raise SiteConfigError(
            f"mkdocs.yml: site_url {url!r} is not a web address; write the portal's address, "
            "e.g. https://data.example.org/, or remove site_url"
        )
    return url if url.endswith("/") else url + "/"


def harvest_files(inputs: SiteInputs, outputs: list[Output], config: MkDocsConfig) -> list[Output]:
    """catalog.jsonld and data.json; none without site_url (there is no address to give)."""
    site = site_facts(config)
    if not site["url"]:
        log.info("no site_url in mkdocs.yml: catalog.jsonld and data.json are left out")
        return []
    site["url"] = checked_site_url(site["url"])
    found = entries(inputs, outputs, site["url"], site["publisher"])
    return [
        Output(CATALOG_JSONLD, dumps(dcat_ap(found, site))),
        Output(DATA_JSON, dumps(data_json(found, site))),
    ]


# --- one sitemap for every language ------------------------------------------------------

SITEMAP_URL = re.compile(r"[ \t]*<url>.*?</url>\n?", re.S)


def merge_sitemaps(site_dir: Path, languages: list[str]) -> None:
    """The root sitemap.xml (and .gz) also lists the pages of each other language's folder
    (<site>/<lang>/sitemap.xml, which stays), so a crawler finds every language from one
    file. No root sitemap (a theme without one): nothing to do."""
    root = site_dir / "sitemap.xml"
    if not root.is_file():
        return
    urls = [
        url
        for language in languages
        if (site_dir / language / "sitemap.xml").is_file()
        for url in SITEMAP_URL.findall((site_dir / language / "sitemap.xml").read_text("utf-8"))
    ]
    if not urls:
        return
    text = root.read_text("utf-8").replace("</urlset>", "".join(urls) + "</urlset>", 1)
    root.write_text(text, "utf-8")
    with gzip.GzipFile(site_dir / "sitemap.xml.gz", "wb", mtime=get_build_timestamp()) as out:
        out.write(text.encode("utf-8"))
