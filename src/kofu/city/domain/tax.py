"""Individual resident tax (個人住民税) as the certificate prints it, in round official terms.

Income (所得) is revenue (収入) less the statutory allowance for its kind; the
tax base is income less deductions, rounded down to the thousand; the rate is
6 % municipal and 4 % prefectural (所得割), plus the per-capita levy (均等割:
3,000 and 1,000 yen).  A person whose total income is at most 450,000 yen pays
nothing (非課税 under 地方税法 295条 and the cities' ordinances, single person).
"""

from __future__ import annotations

__all__ = [
    "BASIC_DEDUCTION",
    "NON_TAXABLE_LIMIT",
    "pension_income",
    "resident_tax",
    "salary_income",
]

BASIC_DEDUCTION = 430_000  # 基礎控除 (住民税)
NON_TAXABLE_LIMIT = 450_000
_PER_CAPITA = (3_000, 1_000)  # 均等割: municipal, prefectural


def salary_income(revenue: int) -> int:
    """給与所得 after the 給与所得控除 of the 2020 table (minimum 550,000 yen)."""
    if revenue <= 1_625_000:
        allowance = 550_000
    elif revenue <= 1_800_000:
        allowance = revenue * 40 // 100 - 100_000
    elif revenue <= 3_600_000:
        allowance = revenue * 30 // 100 + 80_000
    elif revenue <= 6_600_000:
        allowance = revenue * 20 // 100 + 440_000
    elif revenue <= 8_500_000:
        allowance = revenue * 10 // 100 + 1_100_000
    else:
        allowance = 1_950_000
    return max(0, revenue - allowance)


def pension_income(revenue: int, age: int) -> int:
    """公的年金等に係る雑所得, simplified to the minimum allowance by age (65+: 1.1 M)."""
    return max(0, revenue - (1_100_000 if age >= 65 else 600_000))


def resident_tax(total_income: int, total_deductions: int) -> tuple[int, int]:
    """(municipal, prefectural) annual tax for an income and its deductions."""
    if total_income <= NON_TAXABLE_LIMIT:
        return 0, 0
    base = max(0, total_income - total_deductions) // 1000 * 1000
    municipal = base * 6 // 100 // 100 * 100 + _PER_CAPITA[0]
    prefectural = base * 4 // 100 // 100 * 100 + _PER_CAPITA[1]
    return municipal, prefectural
