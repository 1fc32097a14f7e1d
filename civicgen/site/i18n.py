"""Translation catalogues: civicgen's own .po files, then the city's, merged per language.

civicgen ships `civicgen/locale/<lang>/*.po`; a city adds `<locale_dir>/<lang>/*.po` to its
repository (read in file-name order, after civicgen's, so a city's translation wins). A
city's catalogue comes by pull request, so it is untrusted: each file is bounded in size and
entries, its placeholders must be the English text's, and a translation is always shown as
text, never as markup (Jinja's newstyle gettext would otherwise trust it as Markup).
"""

from __future__ import annotations

import gettext as stdlib_gettext
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.plurals import get_plural
from babel.messages.pofile import PoFileError, read_po
from markupsafe import Markup, escape

from ..exceptions import BuildFault
from ..limits import Limits, size_note

if TYPE_CHECKING:  # importlib.resources.abc is new in Python 3.11
    from importlib.abc import Traversable

PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGs]|%%")
NAMED = re.compile(r"%\((\w+)\)")
LANGUAGE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?$")


class TranslationError(BuildFault):
    """A translation catalogue (.po file) cannot be used: broken syntax, too large, or a
    translation whose placeholders are not the English text's."""

    code = "translation-catalogue"
    title = "Translation catalogue"
    example = (
        'locale/es/site.po, line 12: the translation uses the placeholder "%(name)s", which '
        "the English text does not have"
    )
    fix = (
        "Fix the .po file at that line: msgid and msgstr in double quotes, the same "
        "%(name)s placeholders as the English text, %% for a percent sign."
    )


class LanguageError(BuildFault):
    """The `languages` option names a language civicgen cannot format numbers and dates in."""

    code = "unknown-language"
    title = "Unknown language"
    example = 'mkdocs.yml, civicgen option "languages": "xx" is not a language code Babel knows'
    fix = "Use language codes like es, en, ca or pt-BR in the `languages` option."


# --- a merged catalogue -------------------------------------------------------------------


@dataclass
class Catalogue:
    """One language's translations (msgid -> msgstr, or its plural forms)."""

    language: str
    singular: dict[str, str] = field(default_factory=dict)
    plural: dict[str, tuple[str, ...]] = field(default_factory=dict)
    rule: Callable[[int], int] = lambda n: int(n != 1)

    def text(self, message: str) -> str:
        """The translation as plain text (the English text when there is none)."""
        return self.singular.get(message) or message

    def plural_text(self, singular: str, plural: str, n: int) -> str:
        forms = self.plural.get(singular)
        if not forms:
            return singular if n == 1 else plural
        return forms[min(self.rule(n), len(forms) - 1)]

    def gettext(self, message: str) -> Markup:
        """For templates: the translation escaped, so it can only ever be text."""
        return escape(self.text(message))

    def ngettext(self, singular: str, plural: str, n: int) -> Markup:
        return escape(self.plural_text(singular, plural, n))

    def merge(self, catalog: Catalog) -> None:
        for message in catalog:
            if not message.id or message.fuzzy:
                continue
            if isinstance(message.id, tuple):
                forms = tuple(message.string or ())
                if forms and all(forms):
                    self.plural[message.id[0]] = forms
            elif isinstance(message.string, str) and message.string:
                self.singular[str(message.id)] = message.string


def plural_rule(language: str) -> Callable[[int], int]:
    """CLDR's plural rule for the language (never the one a .po file's header gives)."""
    try:
        return stdlib_gettext.c2py(get_plural(babel_locale(language)).plural_expr)
    except (ValueError, UnknownLocaleError):
        return lambda n: int(n != 1)


def babel_locale(language: str) -> str:
    """es -> es, pt-BR -> pt_BR (Babel's spelling)."""
    return language.replace("-", "_")


def check_language(language: Any, where: str) -> str:
    """LanguageError unless language is a code Babel has locale data for."""
    if not isinstance(language, str) or not LANGUAGE.match(language):
        raise LanguageError(f'{where}: "{language}" is not a language code; use one like es, en')
    try:
        Locale.parse(babel_locale(language))
    except (ValueError, UnknownLocaleError) as exc:
        raise LanguageError(
            f'{where}: civicgen has no number and date formats for "{language}"; use a '
            "language code like es, en, ca or pt-BR"
        ) from exc
    return language


# --- reading the .po files ----------------------------------------------------------------


def own_files(language: str) -> list[Traversable]:
    """civicgen's own catalogues for the language, sorted by file name."""
    folder = resources.files("civicgen") / "locale" / language
    if not folder.is_dir():
        return []
    return sorted((f for f in folder.iterdir() if f.name.endswith(".po")), key=lambda f: f.name)


def city_files(root: Path, locale_dir: str, language: str) -> list[Path]:
    """The city's catalogues (<root>/<locale_dir>/<language>/*.po), plain files inside the
    repository only, sorted by file name."""
    folder = root / locale_dir / language
    if not folder.is_dir():
        return []
    check_inside(root, folder)
    files = sorted(p for p in folder.iterdir() if p.name.endswith(".po"))
    for path in files:
        if path.is_symlink() or not path.is_file():
            raise TranslationError(
                f"{shown(root, path)}: is not a plain file (a link?); a translation "
                "catalogue must be a file in the repository"
            )
    return files


def check_inside(root: Path, folder: Path) -> None:
    """TranslationError when the locale folder leaves the repository or goes through a link."""
    current = root
    for part in folder.relative_to(root).parts:
        current = current / part
        if part == ".." or current.is_symlink():
            raise TranslationError(
                f"{shown(root, folder)}: the translations folder must be a plain folder "
                "inside the repository (no link, no ..); set `locale_dir` in mkdocs.yml"
            )


def shown(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def read_catalogue(name: str, data: bytes, limits: Limits | None) -> Catalog:
    """One .po file, parsed and checked (a city's against limits; civicgen's own: None);
    TranslationError says where and what is wrong."""
    if limits is not None and len(data) > limits.catalogue_bytes:
        note = size_note("translation file", len(data), limits.catalogue_bytes, "catalogue_bytes")
        raise TranslationError(f"{name}: {note}")
    try:
        catalog = read_po(BytesIO(data), locale=None, abort_invalid=True)
    except PoFileError as exc:
        raise TranslationError(f"{name}, line {exc.lineno}: {po_problem(exc)}") from exc
    except (UnicodeDecodeError, LookupError) as exc:
        raise TranslationError(
            f"{name}: not UTF-8 text ({exc}); save the file as UTF-8 and declare "
            '"Content-Type: text/plain; charset=UTF-8" in its header'
        ) from exc
    except Exception as exc:  # babel's parser may fail in other ways on a broken file
        raise TranslationError(f"{name}: cannot be read as a .po file ({exc})"[:300]) from exc
    check_entries(name, catalog, limits)
    return catalog


def po_problem(exc: PoFileError) -> str:
    detail = str(exc).split(" on ")[0].strip() or "a line is not valid .po syntax"
    return (
        f'{detail}; each entry is msgid "English text" then msgstr "translation", '
        "every text in double quotes"
    )


def check_entries(name: str, catalog: Catalog, limits: Limits | None) -> None:
    if limits is not None and len(catalog) > limits.catalogue_entries:
        raise TranslationError(
            f"{name}: {len(catalog):,} entries, more than the {limits.catalogue_entries:,} "
            "civicgen reads; split it, or raise the limit `catalogue_entries` in mkdocs.yml"
        )
    for message in catalog:
        if message.id and not message.fuzzy:
            check_placeholders(name, message)


def check_placeholders(name: str, message: Any) -> None:
    """The translation uses only the English text's %(name)s placeholders, and no bare %."""
    ids = message.id if isinstance(message.id, tuple) else (message.id,)
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    allowed = {n for text in ids for n in NAMED.findall(text)}
    if isinstance(message.id, tuple):
        allowed.add("num")
    for text in strings:
        problem = placeholder_problem(text or "", allowed)
        if problem:
            raise TranslationError(f"{name}, line {message.lineno}: {problem}")


def placeholder_problem(text: str, allowed: set[str]) -> str | None:
    unknown = sorted(set(NAMED.findall(text)) - allowed)
    if unknown:
        return (
            f'the translation uses the placeholder "%({unknown[0]})s", which the English '
            "text does not have; use only the English text's placeholders"
        )
    if "%" in PLACEHOLDER.sub("", text):
        return (
            "the translation has a % sign that is not a placeholder; write %% for a "
            "percent sign, and %(name)s for a placeholder"
        )
    return None


# --- the catalogue of one language --------------------------------------------------------


def load_catalogue(
    language: str,
    root: Path | None = None,
    locale_dir: str = "locale",
    limits: Limits | None = None,
) -> Catalogue:
    """civicgen's catalogues for the language, then the city's (which win), merged."""
    limits = limits or Limits()
    catalogue = Catalogue(language, rule=plural_rule(language))
    for name, data, trusted in catalogue_sources(language, root, locale_dir, limits):
        catalogue.merge(read_catalogue(name, data, None if trusted else limits))
    return catalogue


def catalogue_sources(
    language: str, root: Path | None, locale_dir: str, limits: Limits
) -> Iterator[tuple[str, bytes, bool]]:
    """(name shown in errors, bytes, trusted) of every catalogue, civicgen's first."""
    for item in own_files(language):
        yield f"civicgen/locale/{language}/{item.name}", item.read_bytes(), True
    if root is not None:
        for path in city_files(root, locale_dir, language):
            yield shown(root, path), read_bounded(root, path, limits.catalogue_bytes), False


def read_bounded(root: Path, path: Path, limit: int) -> bytes:
    """The file's bytes; TranslationError, without reading it, when it is over the limit."""
    size = path.stat().st_size
    if size > limit:
        note = size_note("translation file", size, limit, "catalogue_bytes")
        raise TranslationError(f"{shown(root, path)}: {note}")
    with path.open("rb") as handle:
        return handle.read(limit + 1)
