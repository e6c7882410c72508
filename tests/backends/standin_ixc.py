"""A local IXCSoft webservice v1: the listing protocol and the action endpoints the adapter uses.

It answers as real installations do (public integrations: goixc, IXC client libraries): every
value a string, ``total`` included; ``registros`` left out when nothing matched; a table the
webservice user may not use answers HTTP 200 with an error envelope (text/html); only a wrong
token or user id is HTTP 401.
"""

from __future__ import annotations

import base64
import itertools
import json
from datetime import date
from typing import Any

from aiohttp import web

from tests.backends.standin import PDF, StandIn, deep, fixture, now_text, substitute

OPERATORS = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: _cmp(a) > _cmp(b),
    "<": lambda a, b: _cmp(a) < _cmp(b),
    ">=": lambda a, b: _cmp(a) >= _cmp(b),
    "<=": lambda a, b: _cmp(a) <= _cmp(b),
    "L": lambda a, b: b.lower() in a.lower(),
}


def _cmp(value: str) -> Any:
    return int(value) if value.isdigit() else value


# Ways real installations answer differently (see conftest.IXC_VARIANTS):
# - restricted: the webservice user may not read the lookup tables cidade, uf, su_oss_assunto and
#   vd_contratos, and refusals come with Portuguese keys ("tipo"/"mensagem", "sem permissão");
# - indexed-registros: "registros" is an object indexed "0", "1", … instead of a list;
# - second-copy: an overdue invoice's get_boleto "dados" is a reissued 2ª via (new due date and
#   amount, an array of one) and get_pix then charges the updated amount.
VARIANTS: frozenset[str] = frozenset({"restricted", "indexed-registros", "second-copy"})
RESTRICTED_TABLES = ("cidade", "uf", "su_oss_assunto", "vd_contratos")


class IxcStandIn(StandIn):
    def __init__(self, variant: frozenset[str] = frozenset()) -> None:
        super().__init__()
        unknown = variant - VARIANTS
        if unknown:
            raise ValueError(f"unknown variants: {sorted(unknown)}")
        self.variant = variant
        self.accounts = fixture("ixc", "accounts")
        self.errors = fixture("ixc", "errors")
        self.recorded = fixture("ixc", "responses")
        self.tables: dict[str, list[dict[str, Any]]] = deep(self.recorded["tables"])
        self.pix: dict[str, Any] = deep(self.recorded["get_pix"])
        self.dados: dict[str, Any] = {}
        if "restricted" in variant:
            for table in RESTRICTED_TABLES:
                del self.tables[table]
        if "second-copy" in variant:
            second = self.recorded["second_copy"]
            for row in self.tables["fn_areceber"]:
                row.update(second["fn_areceber"].get(row["id"], {}))
            self.dados = deep(second["dados"])
            self.pix.update(deep(second["get_pix"]))
        self.enablings_used: set[str] = set()
        self.today = date.today  # the installation's calendar (tests pin it to the adapter's)
        self.uploads: list[dict[str, Any]] = []  # su_ticket_arquivos as received (multipart)
        self._ids = itertools.count(96000)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/webservice/v1/{table}", self.dispatch)

    def _error(self, name: str, table: str = "") -> web.Response:
        error = self.errors[name]
        if "json" in error:
            return web.json_response(error["json"], status=error["status"])
        return web.Response(
            text=error["text"].replace("{TABLE}", table),
            status=error["status"],
            content_type=error["content_type"],
        )

    def refused(self, table: str) -> web.Response:
        """What IXC answers for a table the webservice user may not use (HTTP 200)."""
        name = "no_permission_pt" if "restricted" in self.variant else "no_permission"
        return self._error(name, table)

    def _authorised(self, request: web.Request) -> bool:
        expected = f"{self.accounts['user']}:{self.accounts['token']}".encode()
        header = request.headers.get("Authorization", "")
        return header == "Basic " + base64.b64encode(expected).decode()

    async def dispatch(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error("unauthorized")
        table = request.match_info["table"]
        if request.content_type == "multipart/form-data":
            if table != "su_ticket_arquivos":
                return self.refused(table)
            return await self.insert_attachment(request)
        body = await request.json()
        if request.headers.get("ixcsoft") == "listar":
            return self.listing(table, body)
        actions = {
            "desbloqueio_confianca": self.desbloqueio,
            "get_pix": self.get_pix,
            "get_boleto": self.get_boleto,
            "imprimir_nota": self.imprimir_nota,
            "su_ticket": self.insert_ticket,
            "su_mensagens": self.insert_message,
        }
        if table not in actions:
            return self.refused(table)
        return actions[table](body)

    # --- the listing protocol -------------------------------------------------------------------
    def listing(self, table: str, body: dict[str, Any]) -> web.Response:
        rows = self.tables.get(table)
        if rows is None:
            return self.refused(table)
        conditions = [(body["qtype"], body.get("oper", "="), str(body["query"]))]
        for condition in json.loads(body.get("grid_param") or "[]"):
            conditions.append((condition["TB"], condition["OP"], str(condition["P"])))
        selected = []
        for row in rows:
            if all(
                OPERATORS[oper](str(row.get(field.split(".")[-1], "")), value)
                for field, oper, value in conditions
            ):
                selected.append(row)
        sort_field = str(body.get("sortname", f"{table}.id")).split(".")[-1]
        selected.sort(
            key=lambda r: _cmp(str(r.get(sort_field, ""))),
            reverse=body.get("sortorder") == "desc",
        )
        page, size = int(body.get("page", 1)), int(body.get("rp", 20))
        chunk = selected[(page - 1) * size : page * size]
        answer: dict[str, Any] = {"page": str(page), "total": str(len(selected))}
        if chunk:  # IXC leaves "registros" out when nothing matched
            if "indexed-registros" in self.variant:
                answer["registros"] = {str(i): row for i, row in enumerate(chunk)}
            else:
                answer["registros"] = chunk
        return web.json_response(answer)

    def _row(self, table: str, row_id: str) -> dict[str, Any] | None:
        return next((r for r in self.tables[table] if r["id"] == str(row_id)), None)

    def row(self, table: str, row_id: str) -> dict[str, Any]:
        """A record of the stand-in's data, to change in a test."""
        found = self._row(table, row_id)
        assert found is not None, f"{table} {row_id}"
        return found

    # --- actions --------------------------------------------------------------------------------
    def desbloqueio(self, body: dict[str, Any]) -> web.Response:
        answers = self.recorded["desbloqueio_confianca"]
        contract = self._row("cliente_contrato", body.get("id", ""))
        if contract is None:
            return web.json_response({"tipo": "erro", "mensagem": "Contrato não encontrado."})
        if contract["id"] in self.enablings_used:
            return web.json_response(answers["ja_utilizado"])
        if contract["status_internet"] not in ("CA", "CM", "FA"):
            return web.json_response(answers["nao_bloqueado"])
        self.enablings_used.add(contract["id"])
        contract.update(
            status_internet="A",
            desbloqueio_confianca_ativo="S",
            dt_ult_des_bloq_conf=self.today().isoformat(),
        )
        return web.json_response(answers["sucesso"])

    def get_pix(self, body: dict[str, Any]) -> web.Response:
        invoice_id = str(body.get("id_areceber", ""))
        if self._row("fn_areceber", invoice_id) is None:
            return self._error("pix_of_unknown_invoice")  # HTTP 500, as IXC does
        return web.json_response(self.pix.get(invoice_id) or self.recorded["get_pix_missing"])

    def get_boleto(self, body: dict[str, Any]) -> web.Response:
        """``tipo_boleto`` "dados": the boleto's data as JSON; "arquivo" with ``base64`` "S": the
        PDF as base64 text. An unknown invoice: an empty body (HTTP 200)."""
        row = self._row("fn_areceber", body.get("boletos", ""))
        if row is None:
            return web.Response(text="", content_type="text/html")
        if row["status"] != "A":
            return self._error("boleto_error")
        if body.get("tipo_boleto") == "dados":
            updated = body.get("atualiza_boleto") == "S" and row["id"] in self.dados
            if updated:
                return web.json_response(self.dados[row["id"]])
            return web.json_response(
                {
                    "id": row["id"],
                    "data_vencimento": row["data_vencimento"],
                    "valor_boleto": row["valor_aberto"],
                    "linha_digitavel": row["linha_digitavel"],
                    "nosso_numero": row["id"] + "00",
                }
            )
        return web.Response(text=base64.b64encode(PDF).decode(), content_type="text/plain")

    def imprimir_nota(self, body: dict[str, Any]) -> web.Response:
        if self._row("vd_saida", body.get("id", "")) is None:
            return self._error("boleto_error")
        return web.Response(text=base64.b64encode(PDF).decode(), content_type="text/plain")

    def _inserted(self, row_id: int) -> web.Response:
        return web.json_response(substitute(self.recorded["inserido"], {"ID": str(row_id)}))

    def insert_ticket(self, body: dict[str, Any]) -> web.Response:
        if not body.get("id_assunto"):
            return self._error("insert_refused")
        row_id = next(self._ids)
        self.tables["su_ticket"].append(
            {
                "id": str(row_id),
                "id_cliente": str(body["id_cliente"]),
                "id_contrato": str(body.get("id_contrato") or ""),
                "id_assunto": str(body["id_assunto"]),
                "titulo": body.get("titulo", ""),
                "protocolo": f"20261128{row_id:06d}",
                "menssagem": body.get("menssagem", ""),
                "data_criacao": now_text(),
                "data_ultima_alteracao": now_text(),
                "status": "T",
                "su_status": body.get("su_status", "N"),
                "prioridade": body.get("prioridade", "M"),
                "token": body.get("token", ""),
                "id_ticket_setor": "2",
            }
        )
        return self._inserted(row_id)

    async def insert_attachment(self, request: web.Request) -> web.Response:
        """``su_ticket_arquivos``: multipart with the file in ``local_arquivo`` and the fields
        ``id_ticket`` and ``descricao`` (public integrations: a Python and a TypeScript one)."""
        if "su_ticket_arquivos" not in self.tables:
            return self.refused("su_ticket_arquivos")
        form = await request.post()
        upload = form.get("local_arquivo")
        ticket = self._row("su_ticket", str(form.get("id_ticket", "")))
        if ticket is None or not isinstance(upload, web.FileField):
            return self._error("insert_refused")
        content = upload.file.read()
        row_id = next(self._ids)
        self.uploads.append(
            {
                "fields": {k: v for k, v in form.items() if isinstance(v, str)},
                "filename": upload.filename,
                "content_type": upload.content_type,
                "content": content,
            }
        )
        self.tables["su_ticket_arquivos"].append(
            {
                "id": str(row_id),
                "id_ticket": ticket["id"],
                "descricao": str(form.get("descricao", "")),
                "nome_arquivo": upload.filename,
                "local_arquivo": f"arquivos/su_ticket/{row_id}",
                "data_envio": now_text(),
            }
        )
        return self._inserted(row_id)

    def insert_message(self, body: dict[str, Any]) -> web.Response:
        ticket = self._row("su_ticket", body.get("id_ticket", ""))
        if ticket is None:
            return self._error("insert_refused")
        row_id = next(self._ids)
        self.tables["su_mensagens"].append(
            {
                "id": str(row_id),
                "id_ticket": ticket["id"],
                "mensagem": body.get("mensagem", ""),
                "operador": "0",
                "data": now_text(),
                "titulo": body.get("titulo", ""),
                "visibilidade_mensagens": body.get("visibilidade_mensagens", "PU"),
                "su_status": "N",
            }
        )
        ticket.update(su_status="N", data_ultima_alteracao=now_text())
        return self._inserted(row_id)
