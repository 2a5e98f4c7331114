"""Acronyms and other names the archive uses for the same thing, applied at query time.

Each group lists interchangeable expressions; a query that contains one of them also finds
documents that use another, at a slightly lower weight than the words typed. Keep the list
short and certain: an alias that is wrong for some documents costs more than it gives, and
long formal names are left out (documents that spell out "Democratic People's Republic of
Korea" name it "DPRK" too, and "Republic of Korea" inside it is the other Korea). It is read
when a query is, so changing it needs no reindex.
"""

from __future__ import annotations

ALIAS_GROUPS: tuple[tuple[str, ...], ...] = (
    ("DPRK", "North Korea"),
    ("ROK", "South Korea"),
    ("PRC", "China"),
    ("POTUS", "President"),
    ("VPOTUS", "Vice President"),
    ("FLOTUS", "First Lady"),
    ("SCOTUS", "Supreme Court"),
    ("IRA", "Inflation Reduction Act"),
    ("ARP", "American Rescue Plan"),
    ("BIL", "Bipartisan Infrastructure Law"),
    ("ACA", "Affordable Care Act", "Obamacare"),
    ("CHIPS Act", "CHIPS and Science Act"),
    ("UK", "United Kingdom"),
    ("EU", "European Union"),
    ("UN", "United Nations"),
    ("NATO", "North Atlantic Treaty Organization"),
    ("ASEAN", "Association of Southeast Asian Nations"),
    ("LNG", "liquefied natural gas"),
    ("PFAS", "forever chemicals"),
    ("AI", "artificial intelligence"),
    ("EV", "electric vehicle"),
    ("DHS", "Department of Homeland Security", "Homeland Security"),
    ("DOJ", "Department of Justice", "Justice Department"),
    ("DOD", "Department of Defense", "Pentagon"),
    ("FEMA", "Federal Emergency Management Agency"),
    ("EPA", "Environmental Protection Agency"),
    ("CDC", "Centers for Disease Control"),
    ("FDA", "Food and Drug Administration"),
    ("USDA", "Department of Agriculture"),
    ("HBCU", "historically Black colleges and universities"),
)

# How much an alias counts against the words the user typed.
ALIAS_WEIGHT = 0.8


def alias_table(analyzer) -> dict[tuple[str, ...], list[tuple[str, int]]]:
    """Each alias expression, as the stems it analyzes to, mapped to its group's other names
    (with how many terms each has)."""
    stems = {name: tuple(t.text for t in analyzer(name, mode="query")) for group in ALIAS_GROUPS for name in group}
    table: dict[tuple[str, ...], list[tuple[str, int]]] = {}
    for group in ALIAS_GROUPS:
        for name in group:
            if stems[name]:
                table[stems[name]] = [(other, len(stems[other])) for other in group if other != name and stems[other]]
    return table
