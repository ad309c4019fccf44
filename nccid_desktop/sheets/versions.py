"""Every version of the two templates we know, recognised by its header row, with a changelog.

Why versions as data: a sheet arrives in whatever template its author started from: our own
(the hidden ``_nccid`` sheet says which version), the national NCCID portal's (the same
columns, no marker sheet), or an older version of ours. Each version lists its header row as
written and which current column each header holds, so a sheet in any known version is read
column by column into the current template, and the differences are named in words.

Changelog (newest first per template; also ``TemplateVersion.changes``):

- Main 1.0 (NCCID Desktop): the national portal's v1.5 columns with drop-down lists, input
  hints, an instructions sheet and a version marker.
- Main portal 1.5 (national NCCID portal, ``COVID-19_NCCID_covid_positive_data_template_v1_5``).
- Covid Status 1.0 (NCCID Desktop): the portal's v1.0 columns, with the same additions.
- Covid Status portal 1.0 (national NCCID portal,
  ``COVID-19_NCCID_covid_status_negative_data_template_v1_0``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nccid_desktop.sheets.definitions import TEMPLATES, Column, Template
from nccid_desktop.sheets.layout import match_header, normalise_header

DESKTOP = "NCCID Desktop"
PORTAL = "the national NCCID portal"


def column_id(column: Column) -> str:
    """A column's lasting name: its warehouse key, or its name for the two identifiers."""
    return column.key or column.name


@dataclass(frozen=True)
class TemplateVersion:
    """One version of a template: its header row and what each header holds today.

    ``holds[i]`` is the :func:`column_id` of the current column that ``headers[i]`` holds, or
    ``""`` for a column no longer collected. ``marker``: whether workbooks of this version
    carry our hidden marker sheet (the portal's do not).
    """

    template: str
    version: str
    origin: str
    headers: tuple[str, ...]
    holds: tuple[str, ...]
    marker: bool
    changes: str
    file_name: str = ""

    @property
    def label(self) -> str:
        title = TEMPLATES[self.template].title
        if self.origin == PORTAL:
            return f"{PORTAL}'s {title} template (v{self.version})"
        return f"the {title} template v{self.version}"

    @property
    def is_current(self) -> bool:
        template = TEMPLATES[self.template]
        return self.origin == DESKTOP and self.version == template.version


def current_version(template: Template, changes: str) -> TemplateVersion:
    return TemplateVersion(template.id, template.version, DESKTOP,
                           tuple(c.header for c in template.columns),
                           tuple(column_id(c) for c in template.columns), True, changes)


def _portal(template: Template, version: str, file_name: str, changes: str) -> TemplateVersion:
    same = current_version(template, changes)
    return TemplateVersion(template.id, version, PORTAL, same.headers, same.holds, False,
                           changes, file_name)


MAIN, STATUS = TEMPLATES["main"], TEMPLATES["status"]
KNOWN_VERSIONS: tuple[TemplateVersion, ...] = (
    current_version(MAIN, "The national portal's v1.5 columns, with drop-down lists, input "
                          "hints, an instructions sheet and a version marker."),
    _portal(MAIN, "1.5", "COVID-19_NCCID_covid_positive_data_template_v1_5.xlsx",
            "The national NCCID portal's template for PCR-positive patients."),
    current_version(STATUS, "The national portal's v1.0 columns, with drop-down lists, input "
                            "hints, an instructions sheet and a version marker."),
    _portal(STATUS, "1.0", "COVID-19_NCCID_covid_status_negative_data_template_v1_0.xlsx",
            "The national NCCID portal's template for PCR-negative patients."),
)


def _holds(template: Template, header: Any, version: TemplateVersion, index: int) -> bool:
    if normalise_header(header) == normalise_header(version.headers[index]):
        return True
    column = match_header(template, header)
    return column is not None and column_id(column) == version.holds[index]


def recognise_version(template: Template, headers: Sequence[Any], marker_version: str | None,
                      known: Sequence[TemplateVersion] | None = None
                      ) -> TemplateVersion | None:
    """The known version a sheet follows: by its marker when it has one (None for a version
    we do not know), else by a header row equal to a version's, preferring versions made
    without a marker. None when the header row matches no version exactly."""
    candidates = [v for v in (KNOWN_VERSIONS if known is None else known)
                  if v.template == template.id]
    if marker_version is not None:
        return next((v for v in candidates if v.marker and v.version == marker_version), None)
    matching = [v for v in candidates if len(v.headers) == len(headers)
                and all(_holds(template, h, v, i) for i, h in enumerate(headers))]
    matching.sort(key=lambda v: v.marker)
    return matching[0] if matching else None


def layout_hints(version: TemplateVersion | None, template: Template) -> dict[str, Any]:
    """What :func:`~nccid_desktop.sheets.layout.plan_layout` needs to read a sheet in
    ``version`` as the current template (nothing for the current version or no version)."""
    if version is None or version.is_current:
        return {}
    current = {column_id(c): c for c in template.columns}
    renamed = {normalise_header(h): current[k] for h, k in zip(version.headers, version.holds,
                                                               strict=True) if k}
    dropped = {normalise_header(h) for h, k in zip(version.headers, version.holds,
                                                   strict=True) if not k}
    absent = [c for key, c in current.items() if key not in version.holds]
    return {"renamed": renamed, "dropped": dropped, "absent": absent}


def differences(version: TemplateVersion, template: Template) -> list[str]:
    """How a version's columns differ from the current template, in words (empty: none)."""
    current = {column_id(c): c for c in template.columns}
    held = dict(zip(version.holds, version.headers, strict=True))
    found = []
    for header, holds in zip(version.headers, version.holds, strict=True):
        if not holds:
            found.append(f"its column “{header}” is no longer collected (its values are not "
                         "uploaded)")
        elif normalise_header(header) != normalise_header(current[holds].header):
            found.append(f"its column “{header}” is now “{current[holds].header}”")
    found += [f"it has no column “{column.header}” (left blank)"
              for key, column in current.items() if key not in held]
    return found


def version_words(version: TemplateVersion, template: Template) -> tuple[bool, str]:
    """(whether the differences deserve a warning, the sentence for the report)."""
    changed = differences(version, template)
    start = f"This sheet is in {version.label}, not the current {template.title} template " \
            f"v{template.version}"
    advice = " To get the current template's drop-down lists and hints, save it as the " \
             "current template (nccid template upgrade)."
    if not changed:
        return False, f"{start}: the columns are the same, so it is checked as it is.{advice}"
    return True, (f"{start}. Differences: " + "; ".join(changed) + ". It is checked as the "
                  "current template." + advice)


def changelog() -> list[str]:
    """One line per known version, newest of each template first."""
    return [f"{TEMPLATES[v.template].title} {v.version} ({v.origin}): {v.changes}"
            for v in KNOWN_VERSIONS]
