"""The publiccode.yml standard's vocabularies, and the offline checks of codes and tags.

Lists follow the standard (publiccodeyml/publiccode.yml, docs/standard/*.rst) and what the
reference parser (italia/publiccode-parser-go) accepts. Language and country codes come
from CLDR through Babel, which civicgen already depends on; the iPA registry of Italian
public administrations is a copy shipped in civicgen/data: nothing is fetched.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib import resources

# The versions the reference parser accepts for the v0 branch of the standard.
VERSIONS: tuple[str, ...] = ("0", "0.2", "0.2.0", "0.2.1", "0.2.2", "0.3", "0.3.0", "0.4")
VERSIONS += ("0.4.0", "0.5", "0.5.0", "0.7", "0.7.0")

DEVELOPMENT_STATUSES = ("concept", "development", "beta", "stable", "obsolete")
SOFTWARE_TYPES: tuple[str, ...] = (
    "standalone/mobile",
    "standalone/iot",
    "standalone/desktop",
    "standalone/web",
)
SOFTWARE_TYPES += ("standalone/backend", "standalone/other", "addon", "library")
SOFTWARE_TYPES += ("configurationFiles",)
MAINTENANCE_TYPES = ("internal", "contract", "community", "none")
IT_EXTENSION_VERSIONS = ("0.2", "1.0")

CATEGORIES = frozenset(
    [
        "accounting",
        "agile-project-management",
        "applicant-tracking",
        "application-development",
        "appointment-scheduling",
        "backup",
        "billing-and-invoicing",
        "blog",
        "budgeting",
        "business-intelligence",
        "business-process-management",
        "cad",
        "call-center-management",
        "cloud-management",
        "collaboration",
        "communications",
        "compliance-management",
        "contact-management",
        "content-management",
        "crm",
        "customer-service-and-support",
        "data-analytics",
        "data-collection",
        "data-visualization",
        "design",
        "design-system",
        "digital-asset-management",
        "digital-citizenship",
        "document-management",
        "donor-management",
        "e-commerce",
        "e-signature",
        "educational-content",
        "email-management",
        "email-marketing",
        "employee-management",
        "enterprise-project-management",
        "enterprise-social-networking",
        "erp",
        "event-management",
        "facility-management",
        "feedback-and-reviews-management",
        "financial-reporting",
        "fleet-management",
        "fundraising",
        "gamification",
        "geographic-information-systems",
        "grant-management",
        "graphic-design",
        "help-desk",
        "hr",
        "ide",
        "identity-management",
        "instant-messaging",
        "integrated-library-system",
        "inventory-management",
        "it-asset-management",
        "it-development",
        "it-management",
        "it-security",
        "it-service-management",
        "knowledge-management",
        "learning-management-system",
        "marketing",
        "mind-mapping",
        "mobile-marketing",
        "mobile-payment",
        "network-management",
        "office",
        "online-booking",
        "online-community",
        "other",
        "payment-gateway",
        "payroll",
        "predictive-analysis",
        "procurement",
        "productivity-suite",
        "project-collaboration",
        "project-management",
        "property-management",
        "real-estate-management",
        "regulations-and-directives",
        "remote-support",
        "resource-management",
        "sales-management",
        "seo",
        "service-desk",
        "social-media-management",
        "survey",
        "talent-management",
        "task-management",
        "taxes-management",
        "test-management",
        "time-management",
        "time-tracking",
        "translation",
        "video-conferencing",
        "video-editing",
        "visitor-management",
        "voip",
        "warehouse-management",
        "web-collaboration",
        "web-conferencing",
        "whistleblowing",
        "website-builder",
        "workflow-management",
    ]
)
SCOPES = frozenset(
    [
        "agriculture",
        "culture",
        "defence",
        "education",
        "emergency-services",
        "employment",
        "energy",
        "environment",
        "finance-and-economic-development",
        "foreign-affairs",
        "government",
        "healthcare",
        "infrastructures",
        "justice",
        "local-authorities",
        "manufacturing",
        "research",
        "science-and-technology",
        "security",
        "society",
        "sport",
        "tourism",
        "transportation",
        "welfare",
    ]
)
# Hosts of the video services with oEmbed that the reference parser's provider list names.
VIDEO_HOSTS = frozenset(
    [
        "youtube.com",
        "www.youtube.com",
        "m.youtube.com",
        "youtu.be",
        "youtube-nocookie.com",
        "www.youtube-nocookie.com",
        "vimeo.com",
        "www.vimeo.com",
        "player.vimeo.com",
        "dailymotion.com",
        "www.dailymotion.com",
        "dai.ly",
        "ted.com",
        "www.ted.com",
        "embed.ted.com",
        "twitch.tv",
        "www.twitch.tv",
        "clips.twitch.tv",
        "loom.com",
        "www.loom.com",
    ]
)
IMAGE_EXTENSIONS = (".svg", ".svgz", ".png")
SCREENSHOT_EXTENSIONS = (*IMAGE_EXTENSIONS, ".jpg", ".jpeg", ".gif", ".webp")
# CLDR two-letter territory codes that are not ISO 3166-1 alpha-2 country codes.
NOT_ISO_3166 = frozenset(
    ["AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK", "ZZ"]
)

HTTP_URL = re.compile(r"https?://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?|https?://localhost\S*", re.I)
ANY_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^\s/?#]+\S*", re.I)
URI = re.compile(r"[a-z][a-z0-9+.-]*:\S+", re.I)
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
MIME = re.compile(
    r"(application|audio|font|example|image|message|model|multipart|text|video)"
    r"/[a-z0-9][a-z0-9!#$&^_.+-]*",
    re.I,
)
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
IPA_CODE = re.compile(r"[A-Za-z0-9_]+")
ITALIAN_PA = "urn:x-italian-pa:"
# The aliases the standard names for `supports[].id` (docs/standard/aliases-list.rst of
# publiccodeyml/publiccode.yml): laws and national platforms a tool supports.
SUPPORT_ALIASES = frozenset(["gdpr", "eidas", "nis2", "cra", "spid", "cie", "anpr", "pagopa", "io"])
ALIAS = "alias:"


@cache
def ipa_codes() -> frozenset[str]:
    """The iPA registry of Italian public administrations, lowercased (codes match in any
    case): civicgen's copy of the reference parser's list, see civicgen/data/README.md."""
    text = resources.files("civicgen").joinpath("data/ipa_codes.txt").read_text("ascii")
    return frozenset(text.lower().split())


@cache
def countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes, from CLDR's territories."""
    from babel import Locale

    codes = [str(c) for c in Locale("en").territories]
    return frozenset(c for c in codes if len(c) == 2 and c.isalpha()) - NOT_ISO_3166


@cache
def languages() -> frozenset[str]:
    """Primary language subtags CLDR knows, with their ISO 639-2/3 aliases (ita, eng…)."""
    from babel import Locale
    from babel.core import get_global

    names = {str(code) for code in Locale("en").languages if "_" not in str(code)}
    return frozenset(names | {str(alias) for alias in get_global("language_aliases")})


@cache
def scripts_and_variants() -> tuple[frozenset[str], frozenset[str]]:
    from babel import Locale

    locale = Locale("en")
    scripts = frozenset(str(s).lower() for s in locale.scripts)
    return scripts, frozenset(str(v).lower() for v in locale.variants)


def language_problem(tag: str) -> str:
    """Why tag is not a BCP 47 language tag CLDR knows, or "" when it is one."""
    if not re.fullmatch(r"[A-Za-z0-9]+(-[A-Za-z0-9]+)*", tag):
        return "a language tag has letters and digits joined by hyphens, like en or pt-BR"
    subtags = tag.lower().split("-")
    if subtags[0] not in languages():
        return f'"{subtags[0]}" is not a language code'
    for position, subtag in enumerate(subtags[1:], start=1):
        if len(subtag) == 1:  # an extension or private use: the rest is free
            return "" if position < len(subtags) - 1 else f'"{tag}" ends with "-{subtag}"'
        known = subtag_known(subtag)
        if not known:
            return f'"{subtag}" in "{tag}" is not a script, region or variant code'
    return ""


def subtag_known(subtag: str) -> bool:
    """A script (4 letters), a region (2 letters, or 3 digits) or a variant CLDR knows."""
    scripts, variants = scripts_and_variants()
    if len(subtag) == 4 and subtag.isalpha():
        return subtag in scripts
    if len(subtag) == 2:
        return subtag.upper() in countries()
    if len(subtag) == 3 and subtag.isdigit():
        return True
    return subtag in variants


def country_problem(code: str) -> str:
    """Why code is not an ISO 3166-1 alpha-2 country code, or ""."""
    if code.upper() in countries() and code in (code.upper(), code.lower()):
        return ""
    if code.upper() in countries():
        return f'write "{code.upper()}" in capitals'
    return f'"{code}" is not a two-letter country code (ISO 3166-1 alpha-2), like IT or ES'


def graphemes(text: str) -> int:
    """Characters as a reader counts them: combining marks and emoji joins add none."""
    count, joined = 0, False
    for char in text:
        if joined or unicodedata.combining(char) or 0xFE00 <= ord(char) <= 0xFE0F:
            joined = False
            continue
        if char == "\u200d":
            joined = True
            continue
        if 0x1F3FB <= ord(char) <= 0x1F3FF:  # skin tone modifiers
            continue
        count += 1
    return count
