"""続柄: the relation of each household member to the household head (世帯主).

The standard specification (jyuki-stnd 1.1.11) allows a closed list of
relations: 世帯主; the base terms 夫, 妻, 夫（未届）, 妻（未届）, 子, 子の夫,
子の妻, 父, 母, 兄, 姉, 弟, 妹; chains of up to four base terms joined with
「の」 (子の子, 妻の母, 子の子の子の子); 縁故者; and 同居人.  A relation the
list cannot express in four terms is written 縁故者; words such as 孫, 祖父 or
おじ are never written.

When the head changes (世帯主変更), each member's relation is restated
relative to the new head.  ``restate`` derives it where the recorded
relations determine it; where they do not (a grandchild of the late head may
be the new head's child or nephew), it answers None and the clerk says.
"""

from __future__ import annotations

from datetime import date

from kofu.city.domain.model import Resident, Sex

__all__ = [
    "BASE_TERMS",
    "HEAD",
    "LODGER",
    "RELATIVE",
    "chain_of",
    "child_of",
    "household_order",
    "is_valid_relationship",
    "restate",
]

HEAD = "世帯主"
RELATIVE = "縁故者"
LODGER = "同居人"
MAX_TERMS = 4  # 1.1.11 ③: at most four generations joined with 「の」
# Longest first, so that 子の妻 is one term and 夫（未届） is not read as 夫.
BASE_TERMS = (
    "夫（未届）",
    "妻（未届）",
    "子の夫",
    "子の妻",
    "夫",
    "妻",
    "子",
    "父",
    "母",
    "兄",
    "姉",
    "弟",
    "妹",
)
_SPOUSES = ("夫", "妻", "夫（未届）", "妻（未届）")
_SIBLINGS = ("兄", "姉", "弟", "妹")


def chain_of(relationship: str) -> list[str] | None:
    """The base terms a relation is made of, or None when it is not a chain of them."""
    terms: list[str] = []
    rest = relationship
    while rest:
        if terms:
            if not rest.startswith("の"):
                return None
            rest = rest[1:]
        term = next((t for t in BASE_TERMS if rest.startswith(t)), None)
        if term is None:
            return None
        terms.append(term)
        rest = rest[len(term) :]
    return terms or None


def is_valid_relationship(relationship: str) -> bool:
    """Whether the relation is one the standard lets a 住民票 carry."""
    if relationship in (HEAD, RELATIVE, LODGER):
        return True
    chain = chain_of(relationship)
    return chain is not None and len(chain) <= MAX_TERMS


def _joined(*parts: str) -> str:
    """Terms joined with 「の」; past four terms the relation is 縁故者."""
    text = "の".join(p for p in parts if p)
    chain = chain_of(text)
    return text if chain is not None and len(chain) <= MAX_TERMS else RELATIVE


def child_of(parent_relationship: str) -> str:
    """The relation to the head of a child born to a member with ``parent_relationship``."""
    if parent_relationship in (HEAD, *_SPOUSES):
        return "子"
    if parent_relationship in (RELATIVE, LODGER):
        return parent_relationship
    if parent_relationship in ("子の夫", "子の妻"):
        return "子の子"
    return _joined(parent_relationship, "子")


def _spouse_word(person: Resident, unregistered: bool = False) -> str:
    word = "夫" if person.sex is Sex.MALE else "妻"
    return f"{word}（未届）" if unregistered else word


def _parent_word(person: Resident) -> str:
    return "父" if person.sex is Sex.MALE else "母"


def _sibling_word(of: Resident, sibling: Resident) -> str:
    older = sibling.birth_date < of.birth_date
    if sibling.sex is Sex.MALE:
        return "兄" if older else "弟"
    return "姉" if older else "妹"


def _in_new_heads_line(new_head: Resident, member: Resident) -> bool:
    """The member is written in the family register the new head heads (筆頭者)."""
    return (
        member.family_register_id is not None
        and member.family_register_id == new_head.family_register_id
        and new_head.domicile_head == new_head.name
    )


def _old_head(old_head: Resident, new_head: Resident) -> str | None:
    """The former head, staying in the household, seen from the new head."""
    rel = new_head.relationship
    if rel in _SPOUSES:
        return _spouse_word(old_head, "未届" in rel)
    if rel == "子":
        return _parent_word(old_head)
    if rel in ("父", "母"):
        return "子"
    if rel in _SIBLINGS:
        return _sibling_word(new_head, old_head)
    return None


def restate(old_head: Resident, new_head: Resident, member: Resident) -> str | None:
    """``member``'s relation to ``new_head``, from both relations to ``old_head``; None if unsure.

    ``old_head`` is the head the recorded relations were written against,
    whether still in the household or gone (死亡, 転出).
    """
    if member.resident_code == old_head.resident_code:
        return _old_head(old_head, new_head)
    rel, via = member.relationship, new_head.relationship
    if rel in (RELATIVE, LODGER):
        return rel
    chain = chain_of(rel)
    if chain is None or via in (RELATIVE, LODGER, HEAD):
        return None
    if via in _SPOUSES:
        if chain[0] in ("子", "子の夫", "子の妻"):
            return rel  # the couple's child and its line (a stepchild is the clerk's to say)
        return _joined(_spouse_word(old_head, "未届" in via), rel)
    if via == "子":
        return _from_child(old_head, new_head, member, chain)
    if via in ("父", "母"):
        if rel in _SPOUSES:
            return "子の夫" if member.sex is Sex.MALE else "子の妻"
        if chain[0] in ("子", "子の夫", "子の妻") or rel in _SIBLINGS:
            return _joined("子", rel) if rel not in _SIBLINGS else "子"
        if rel in ("父", "母") and member.sex is not new_head.sex:
            return _spouse_word(member)
    return None


def _from_child(
    old_head: Resident, new_head: Resident, member: Resident, chain: list[str]
) -> str | None:
    """Restated for a new head who was the former head's child; None where the line is unclear."""
    rel = member.relationship
    if rel in _SPOUSES:
        return _parent_word(member)
    if rel == "子":
        return _sibling_word(new_head, member)
    if rel in ("父", "母"):
        return _joined(_parent_word(old_head), rel)
    if chain[0] in ("子", "子の夫", "子の妻") and _in_new_heads_line(new_head, member):
        if rel in ("子の夫", "子の妻"):
            return _spouse_word(member)
        return "の".join(chain[1:])
    return None


# --- 世帯員の並び順 (jyuki-stnd 5.2) ------------------------------------------------------------

_PARENTS = ("父", "母")
_GRANDPARENTS = ("父の父", "父の母", "母の父", "母の母")
_CHILD_LINE = ("子", "子の夫", "子の妻")


def _register_of(person: Resident) -> tuple[str, str] | None:
    """The family register a person is written in, as the 住民票 names it: 本籍 and 筆頭者."""
    if person.domicile is None or person.domicile_head is None:
        return None
    return (person.domicile, person.domicile_head)


def _own_family_of(child: Resident, members: list[Resident], head: Resident | None) -> list[str]:
    """Members of a child's own family (spouse, children): in the register the child shares.

    A child who married is written in a register apart from the household
    head's (a new 本籍・筆頭者), with the spouse and their children.
    """
    register = _register_of(child)
    if register is None or (head is not None and _register_of(head) == register):
        return []
    return [
        m.resident_code
        for m in members
        if m.resident_code != child.resident_code
        and _register_of(m) == register
        and (chain_of(m.relationship) or [""])[0] in _CHILD_LINE
        and m.relationship != "子"
    ]


def household_order(members: list[Resident]) -> list[Resident]:
    """Members in the order a 世帯連記式 certificate lists them.

    The clerk's order (``household_position``) first; the others by rank:
    head, spouse, the head's children without a family of their own; each
    married child with spouse and children, by the child's birth; parents
    (筆頭者 first), siblings, grandparents; other relatives, 縁故者, 同居人 —
    each by date of birth, then by code (宛名番号).
    """
    head = next((m for m in members if m.relationship == HEAD), None)
    families: dict[str, tuple[date, str]] = {}
    for child in sorted(
        (m for m in members if m.relationship == "子"),
        key=lambda m: (m.birth_date, m.resident_code),
    ):
        own = _own_family_of(child, members, head)
        if own:
            families[child.resident_code] = (child.birth_date, child.resident_code)
            for code in own:
                families.setdefault(code, (child.birth_date, child.resident_code))

    def key(m: Resident) -> tuple[object, ...]:
        manual = (0, m.household_position) if m.household_position is not None else (1, 0)
        return (*manual, *_standard_rank(m, families), m.birth_date, m.resident_code)

    return sorted(members, key=key)


def _standard_rank(m: Resident, families: dict[str, tuple[date, str]]) -> tuple[object, ...]:
    rel = m.relationship
    chain = chain_of(rel) or []
    if rel == HEAD:
        return (1, 0)
    if rel in _SPOUSES:
        return (1, 1)
    if m.resident_code in families:
        within = 0 if rel == "子" else 1 if rel in ("子の夫", "子の妻") else 2 + len(chain)
        return (2, families[m.resident_code], within)
    if rel == "子":
        return (1, 2)
    if chain and chain[0] in _CHILD_LINE:
        return (2, (date.max, ""), len(chain))  # a child's family the records do not tie
    if rel in _PARENTS:
        return (3, 0, 0 if m.domicile_head == m.name else 1)
    if rel in _SIBLINGS:
        return (3, 1)
    if rel in _GRANDPARENTS:
        return (3, 2, 0 if m.domicile_head == m.name else 1)
    if rel == RELATIVE:
        return (4, 1)
    if rel == LODGER:
        return (4, 2)
    return (4, 0, len(chain))
