"""The SGP stand-in's global URA title listing, ``POST /api/ura/titulos/``.

Filters as SGP's published collection lists them (``cpfcnpj``, ``contrato``, ``status``,
``data_vencimento_inicio``/``_fim``, ``data_pagamento_inicio``/``_fim``, ``offset``, ``limit``);
items in the URA's camelCase (``id``, ``clienteContrato``, ``clienteCpfcnpj``, ``status``,
``valor``, ``dataVencimento``, ``dataPagamento``, ``linhaDigitavel``, ``codigoPix``), with
``paginacao`` as the Central's ``titulos`` has it.
"""

from __future__ import annotations

import re
from typing import Any

STATUS_TEXT = {1: "Em aberto", 2: "Pago", 3: "Cancelado"}
STATUS_WORDS = {"abertos": 1, "pagos": 2, "cancelados": 3}


def _digits(text: Any) -> str:
    return re.sub(r"\D", "", str(text or ""))


def ura_titles(state: dict[str, Any], form: dict[str, Any], *, strings: bool) -> dict[str, Any]:
    owners: dict[str, str] = {}  # contract id → the subscriber's document
    for document, answer in state["consultacliente"].items():
        for contract in answer.get("contratos", []):
            owners[str(contract["contratoId"])] = document
    wanted_document = _digits(form.get("cpfcnpj"))
    status = STATUS_WORDS.get(str(form.get("status", "")))
    ranges = [
        ("vencimento", form.get("data_vencimento_inicio"), form.get("data_vencimento_fim")),
        ("data_pagamento", form.get("data_pagamento_inicio"), form.get("data_pagamento_fim")),
    ]
    found = []
    for contract_id, faturas in sorted(state["titulos"].items()):
        document = owners.get(contract_id, "")
        if wanted_document and document != wanted_document:
            continue
        if form.get("contrato") and str(form["contrato"]) != contract_id:
            continue
        for fatura in faturas:
            if status is not None and fatura["statusid"] != status:
                continue
            if any(
                (start and (fatura.get(key) or "") < start)
                or (end and (fatura.get(key) or "~") > end)
                for key, start, end in ranges
            ):
                continue
            found.append(_item(fatura, contract_id, document, strings=strings))
    found.sort(key=lambda item: int(item["id"]))
    offset, limit = int(form.get("offset", 0)), int(form.get("limit", 100))
    page = found[offset : offset + limit]
    paging = {"offset": offset, "limit": limit, "parcial": len(page), "total": len(found)}
    return {"paginacao": paging, "titulos": page}


def _item(
    fatura: dict[str, Any], contract_id: str, document: str, *, strings: bool
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": fatura["id"],
        "numeroDocumento": fatura.get("numero_documento"),
        "clienteContrato": int(contract_id),
        "clienteCpfcnpj": document,
        "status": STATUS_TEXT[fatura["statusid"]],
        "valor": fatura["valor"],
        "valorCorrigido": fatura.get("valorcorrigido"),
        "valorPago": fatura.get("valorpago"),
        "dataEmissao": fatura.get("data_documento"),
        "dataVencimento": fatura["vencimento"],
        "dataPagamento": fatura.get("data_pagamento"),
        "linhaDigitavel": fatura.get("linhadigitavel") or "",
        "codigoPix": fatura.get("codigopix") or "",
        "link": fatura.get("link") or "",
    }
    if strings:  # numbers as text, as some installations send them
        item["id"] = str(item["id"])
        item["clienteContrato"] = str(item["clienteContrato"])
    return item
