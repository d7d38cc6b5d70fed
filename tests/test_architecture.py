"""Beroendena pekar åt ett håll (DESIGN.md, Layout): läses ur källkodens importer med `ast`.

`replies` → `campaigns` → `smsportal` → `templates_app`; alla får använda `audit` och `common`;
`audit` använder bara `common`; `common` importerar inget av portalens egna; SMS-leverantörerna
(`smsportal/backends`) importerar bara `smsportal` och `common`, aldrig `audit`; ingen app importerar
`config` (inställningarna läses genom `django.conf.settings`). `config` står överst och får
importera apparna. En import inne i en funktion räknas lika mycket som en överst i filen.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Portalens egna paket: en import av något av dem är en pil mellan två delar.
OURS = frozenset(
    {"accounts", "audit", "campaigns", "common", "config", "replies", "smsportal", "stats", "templates_app"}
)

#: Vad varje paket (eller del av ett paket) får importera av portalens egna, utöver paketet självt.
#: config saknas: den får allt.
ALLOWED: dict[str, frozenset[str]] = {
    "common": frozenset(),
    "audit": frozenset({"common"}),
    "templates_app": frozenset({"audit", "common"}),
    "accounts": frozenset({"audit", "common"}),
    "smsportal": frozenset({"templates_app", "audit", "common"}),
    # Leverantörerna skickar och tolkar svar; vad som loggas bestämmer smsportal.sending.
    "smsportal/backends": frozenset({"common"}),
    "campaigns": frozenset({"smsportal", "templates_app", "accounts", "audit", "common"}),
    "replies": frozenset({"campaigns", "smsportal", "templates_app", "accounts", "audit", "common"}),
    # Statistiken läser kampanjernas statistikrader och SMS-registret; ingen app läser statistiken.
    "stats": frozenset({"campaigns", "smsportal", "templates_app", "accounts", "audit", "common"}),
}

#: Funktioner som laddar en modul från en sträng: en konstant sträng räknas som en import.
LOADERS = frozenset({"import_module", "import_string", "__import__"})


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """Radnummer och modulnamn för varje absolut import i trädet (relativa stannar i paketet)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and _loader_name(node.func) in LOADERS and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((node.lineno, first.value))
    return sorted(found)


def _loader_name(func: ast.expr) -> str:
    """Namnet på den anropade funktionen (`import_module` i både `import_module(...)` och `importlib.import_module(...)`)."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def forbidden_imports(package: str, root: Path = ROOT) -> list[str]:
    """Varje import i paketet av en del av portalen som paketet inte får använda, som `fil:rad → modul`."""
    allowed = ALLOWED[package] | {package.split("/")[0]}
    files = sorted((root / package).rglob("*.py"))
    assert files, f"inga Python-filer hittades i {package}/"
    problems = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, module in imported_modules(tree):
            top = module.split(".")[0]
            if top in OURS and top not in allowed:
                problems.append(f"{path.relative_to(root)}:{line} → {module}")
    return problems


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_the_design_allows(package: str) -> None:
    """Inget paket importerar en del av portalen ovanför sig, och ingen app importerar config."""
    assert forbidden_imports(package) == []


def test_a_forbidden_import_is_found(tmp_path: Path) -> None:
    """Kontrollen hittar en förbjuden import, även inne i en funktion eller som sträng till import_module."""
    package = tmp_path / "templates_app"
    package.mkdir()
    (package / "admin.py").write_text(
        "from django.conf import settings\n"
        "from common.smstext import analyse\n"
        "def view() -> None:\n"
        "    from smsportal.phone import mask_phone\n"
        "    import config.urls\n"
        "    import_module('campaigns.models')\n",
        encoding="utf-8",
    )
    assert forbidden_imports("templates_app", root=tmp_path) == [
        "templates_app/admin.py:4 → smsportal.phone",
        "templates_app/admin.py:5 → config.urls",
        "templates_app/admin.py:6 → campaigns.models",
    ]
