"""Words the screens show for the registers' codes: event kinds, fields, states."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kofu.core.clock import JST

__all__ = [
    "ACTION_LABELS",
    "FIELD_LABELS",
    "KIND_LABELS",
    "STATUS_LABELS",
    "local_time",
    "shown",
]

KIND_LABELS: Mapping[str, str] = {
    "seed": "初期登録",
    "birth": "出生",
    "death": "死亡",
    "move_in": "転入",
    "move_out": "転出",
    "move_in_notice": "転入通知の受理",
    "move_out_confirmed": "転出（確定）",
    "move_within": "転居",
    "name_change": "氏名変更",
    "household_change": "世帯変更",
    "household_head_change": "世帯主変更",
    "marriage": "婚姻",
    "divorce": "離婚",
    "adoption": "養子縁組",
    "domicile_transfer_out": "転籍（転出）",
    "domicile_transfer_in": "転籍（転入）",
    "seal_register": "印鑑登録",
    "seal_abolish": "印鑑登録廃止",
    "tax_assessment": "課税",
    "support_measure": "支援措置の開始",
    "support_measure_extend": "支援措置の延長",
    "support_measure_end": "支援措置の終了",
    "issuance_block": "交付停止の設定",
    "issuance_block_release": "交付停止の解除",
    "issuance_block_temporary_release": "交付停止の一時解除",
}

FIELD_LABELS: Mapping[str, str] = {
    "effective": "異動日",
    "notified": "届出日",
    "resident": "住民票コード",
    "individual_number": "個人番号",
    "name": "氏名",
    "kana": "フリガナ",
    "sex": "性別（male / female）",
    "birth_date": "生年月日",
    "mother": "母の住民票コード",
    "father": "父の住民票コード",
    "address": "新住所",
    "previous_address": "前住所",
    "destination": "転出先",
    "household": "世帯（new または世帯番号）",
    "household_id": "世帯番号",
    "household_head_name": "世帯主",
    "relationship": "続柄",
    "domicile": "本籍",
    "domicile_head": "筆頭者",
    "new_domicile": "新本籍",
    "foreign": "外国人住民の記載事項",
    "whole_household": "世帯全員で",
    "spouse": "配偶者の住民票コード",
    "family_name_of": "婚姻後の氏",
    "adopter": "養親の住民票コード",
    "impression": "印影",
    "fiscal_year": "年度",
    "incomes": "所得",
    "revenues": "収入",
    "deductions": "控除",
    "dependents": "扶養人数",
    "municipal_tax": "市民税",
    "prefectural_tax": "県民税",
    "measure": "措置の種類",
    "provisional": "仮支援措置",
    "reason": "理由",
    "end": "終了日",
    "level": "区分（error / alert）",
    "until": "一時解除の期限",
    "name_history": "旧氏名",
    "status": "状態",
    "removed_on": "消除日",
    "removal_reason": "消除事由",
    "address_set_on": "住所を定めた日",
    "notified_on": "届出日",
    "prior_address": "異動前住所",
    "move_out_destination": "転出先",
    "planned_move_out": "転出予定",
    "became_resident_on": "住民となった日",
    "family_register_id": "戸籍",
}

STATUS_LABELS: Mapping[str, str] = {"resident": "住民", "removed": "除票"}


def shown(value: Any) -> str:
    """A stored value as a clerk reads it: lists with 、, addresses as their text, no quotes."""
    if value is None or value == "":
        return "—"
    if isinstance(value, list | tuple):
        return "、".join(shown(v) for v in value) or "—"
    if isinstance(value, dict):
        if "prefecture" in value and "city" in value:
            parts = ("prefecture", "city", "town", "block", "building")
            return "".join(str(value.get(p) or "") for p in parts) or "—"
        return "、".join(f"{FIELD_LABELS.get(k, k)}: {shown(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    return str(value)


ACTION_LABELS: Mapping[str, str] = {
    "sign_in": "サインイン",
    "sign_in_failed": "サインイン失敗",
    "sign_in_locked": "ロック中のサインイン",
    "sign_out": "サインアウト",
    "refused": "権限外の操作",
    "reveal_number": "個人番号の表示",
    "open_protected": "支援措置対象者の閲覧",
    "issue_certificate": "証明書の交付",
    "register_change": "異動の適用",
    "read_audit": "監査証跡の閲覧",
    "domicile_decision": "本籍地利用登録の審査",
    "card_apply": "カード交付申請",
    "card_notices": "交付通知書の送付",
    "card_slots": "交付枠の追加",
    "card_book": "交付予約",
    "card_handover": "カード交付",
    "card_lost": "紛失届",
    "card_found": "発見届",
    "card_renew": "電子証明書の更新",
    "card_reset-pin": "暗証番号の初期化",
}


def local_time(value: Any) -> str:
    """An ISO instant as a clerk reads it, in JST: 2026-11-24 09:30:00 (ISO wraps badly)."""
    try:
        instant = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if instant.tzinfo is not None:
        instant = instant.astimezone(JST)
    return instant.strftime("%Y-%m-%d %H:%M:%S")
