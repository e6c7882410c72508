"""A local SGP: the Central and URA endpoints the adapter uses, over recorded answers.

The recorded data is one canonical set (URA's camelCase ``consultacliente``); the Central answers
are shaped from it as public integrations read real installations (lowercase ``contratos`` with
``endereco_instalacao``, ``chamado/list`` and notes as bare arrays, ``oc_*``/``os_*`` ticket
fields), so both families always agree. VARIANTS turn on the other ways installations answer.
"""

from __future__ import annotations

import base64
import itertools
import mimetypes
import re
from typing import Any

from aiohttp import web

from tests.backends.standin import PDF, StandIn, deep, fixture, now_text, substitute
from tests.backends.standin_sgp_ura import ura_titles


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


# Ways real installations answer differently (see conftest.SGP_VARIANTS):
# - "ura-refused": the token may not use the URA (403 "… não foram fornecidas");
# - "objects-in-lists": telefones/emails as [{tipoContato, contato}], not texts;
# - "strings": numbers as text with a decimal comma, dates as DD/MM/YYYY;
# - "wrapped": chamado/list, notes and subjects wrapped in an object instead of bare arrays;
# - "phone-only": Maria also has a phone-only contract (verificaacesso status 0, no login);
# - "relative-links": boleto links relative to SGP's root.
VARIANTS: frozenset[str] = frozenset(
    {"ura-refused", "objects-in-lists", "strings", "wrapped", "phone-only", "relative-links"}
)
NOT_PROVIDED = {"detail": "As credenciais de autenticação não foram fornecidas."}
PHONE_ONLY = {
    "contratoId": 1102,
    "clienteId": 501,
    "razaoSocial": "Maria Aparecida dos Santos",
    "cpfCnpj": "318.456.720-62",
    "contratoStatus": 1,
    "contratoStatusDisplay": "Ativo",
    "cobVencimento": 10,
    "planointernet": "",
    "planotelefonia": "Fone Fixo Ilimitado",
    "planotelefonia_valor": 29.9,
    "telefones": ["(19) 3232-4545"],
    "emails": [],
    "endereco_logradouro": "Rua Coronel Quirino",
    "endereco_numero": "1250",
    "endereco_bairro": "Cambuí",
    "endereco_cidade": "Campinas",
    "endereco_uf": "SP",
    "endereco_cep": "13025-002",
}


def _br_amount(value: Any) -> Any:
    return f"{value:.2f}".replace(".", ",") if isinstance(value, float | int) else value


def _br_date(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-":
        return f"{value[8:10]}/{value[5:7]}/{value[:4]}{value[10:]}"
    return value


class SgpStandIn(StandIn):
    def __init__(self, variant: frozenset[str] = frozenset()) -> None:
        super().__init__()
        unknown = variant - VARIANTS
        if unknown:
            raise ValueError(f"unknown variants: {sorted(unknown)}")
        self.variant = variant
        self.accounts = fixture("sgp", "accounts")
        self.errors = fixture("sgp", "errors")
        self.recorded = fixture("sgp", "responses")
        self.state: dict[str, Any] = deep(self.recorded)
        self.promises_used: set[str] = set()
        self.service_records_opened = 0  # fatura2via without nao_gerar_os=1 opens one
        if "phone-only" in variant:
            maria = self.state["consultacliente"]["31845672062"]["contratos"]
            maria.append(deep(PHONE_ONLY))
            for table in ("titulos", "chamados"):
                self.state[table]["1102"] = []
        self.files: dict[str, tuple[str, bytes]] = {}
        self._ids = itertools.count(91000)

    # --- helpers --------------------------------------------------------------------------------
    def _answer(self, body: Any, status: int = 200) -> web.Response:
        return web.json_response(substitute(body, {"BASE": self.base_url}), status=status)

    def _error(self, name: str) -> web.Response:
        error = self.errors[name]
        if "json" in error:
            return web.json_response(error["json"], status=error["status"])
        return web.Response(
            text=error["text"], status=error["status"], content_type=error["content_type"]
        )

    async def _central(self, request: web.Request) -> tuple[str | None, dict[str, Any]]:
        """The subscriber's document: by their Central password, or by the integration's token
        and app (what the bot's feed sends) unless the token may not use the URA."""
        form = dict(await request.post())
        document = _digits(str(form.get("cpfcnpj", "")))
        integration = self.accounts["integration"]
        by_token = (
            form.get("token") == integration["token"] and form.get("app") == integration["app"]
        )
        if by_token and document in self.state["consultacliente"]:
            return (None if "ura-refused" in self.variant else document), form
        if self.accounts["central"].get(document) != form.get("senha"):
            return None, form
        return document, form

    async def _ura(self, request: web.Request) -> dict[str, Any] | None:
        form = dict(await request.post())
        integration = self.accounts["integration"]
        if form.get("token") != integration["token"] or form.get("app") != integration["app"]:
            return None
        return form

    def _ura_refused(self) -> web.Response | None:
        if "ura-refused" in self.variant:
            return web.json_response(NOT_PROVIDED, status=403)
        return None

    def _contracts_of(self, document: str) -> list[dict[str, Any]]:
        answer = self.state["consultacliente"].get(document, {})
        return answer.get("contratos", [])

    def _owns(self, document: str, contract: Any) -> bool:
        return any(str(c["contratoId"]) == str(contract) for c in self._contracts_of(document))

    def _contract_of_os(self, document: str, os_id: str) -> str | None:
        for contract in self._contracts_of(document):
            key = str(contract["contratoId"])
            if any(str(c["os"]) == os_id for c in self.state["chamados"].get(key, [])):
                return key
        return None

    # --- routes ---------------------------------------------------------------------------------
    def routes(self, app: web.Application) -> None:
        central = {
            "/api/central/contratos": self.contratos,
            "/api/central/verificaacesso/": self.verificaacesso,
            "/api/central/extratouso/": self.extratouso,
            "/api/central/promessapagamento/": self.promessa,
            "/api/central/titulos/": self.titulos,
            "/api/central/fatura2via/": self.fatura2via,
            "/api/central/pagamento/pix/{id}": self.pix,
            "/api/central/chamado/list/": self.chamados,
            "/api/central/tipoocorrencia/list/": self.tipos,
            "/api/central/chamado/": self.abrir_chamado,
            "/api/central/chamado/{os}/anotacao": self.anotacao,
            "/api/central/chamado/{os}/anexo/add/": self.anexo,
            "/api/central/notafiscal/list/": self.notas("notafiscal"),
            "/api/central/nfse/list/": self.notas("nfse"),
        }
        for path, handler in central.items():
            app.router.add_post(path, handler)
        app.router.add_post("/api/central/nfcom/list", self.nfcom_list)
        app.router.add_post("/api/central/nfcom/print/{numero}", self.nfcom_print)
        app.router.add_post("/api/ura/consultacliente/", self.consultacliente)
        app.router.add_post("/api/ura/titulos/", self.ura_titulos)
        app.router.add_post("/api/ura/contato/add/", self.contato_add)
        app.router.add_post("/api/ura/pops/", self.pops)
        app.router.add_get("/boleto/{name}", self.pdf)
        app.router.add_get("/media/{tail:.*}", self.media)

    def _central_contract(self, contract: dict[str, Any]) -> dict[str, Any]:
        """A URA contract as the Central's ``contratos`` spells it (cabosat_app's model)."""
        address = {
            key: contract.get(f"endereco_{key}", "")
            for key in ("logradouro", "numero", "complemento", "bairro", "cidade", "uf", "cep")
        }
        emails = contract.get("emails", [])
        if "objects-in-lists" in self.variant:
            emails = [{"tipoContato": "email", "contato": e} for e in emails]
        answer = {
            "contrato": contract["contratoId"],
            "razaosocial": contract["razaoSocial"],
            "cpfcnpj": contract["cpfCnpj"],
            "status": contract["contratoStatusDisplay"] + " ",  # as SGP sends it: trim it
            "vencimento": contract.get("cobVencimento"),
            "planointernet": contract.get("planointernet", ""),
            "planointernet_id": 301 if contract.get("planointernet") else "",
            "planointernet_valor": contract.get("servico_valor", 0),
            "planotv": "",
            "planotv_valor": 0,
            "planotelefonia": contract.get("planotelefonia", ""),
            "planotelefonia_valor": contract.get("planotelefonia_valor", 0),
            "emails": emails,
            "endereco_instalacao": address,
            "endereco_cobranca": address,
        }
        if "strings" in self.variant:
            for key in ("planointernet_valor", "planotelefonia_valor", "planotv_valor"):
                answer[key] = _br_amount(answer[key])
            answer["vencimento"] = str(answer["vencimento"])
        return answer

    async def contratos(self, request: web.Request) -> web.Response:
        document, _ = await self._central(request)
        if document is None:
            return self._error("credentials_refused")
        contracts = [self._central_contract(c) for c in self._contracts_of(document)]
        return self._answer({"contratos": contracts})

    async def verificaacesso(self, request: web.Request) -> web.Response:
        document, form = await self._central(request)
        if document is None:
            return self._error("credentials_refused")
        if not self._owns(document, form.get("contrato")):
            return self._error("contract_not_found")
        answer = dict(self.state["verificaacesso"][str(form["contrato"])])
        if "objects-in-lists" in self.variant:
            answer.pop("login", None)  # the login then comes from URA's servico_login
        return self._answer(answer)

    async def extratouso(self, request: web.Request) -> web.Response:
        document, form = await self._central(request)
        if document is None:
            return self._error("credentials_refused")
        if not self._owns(document, form.get("contrato")):
            return self._error("contract_not_found")
        month = f"{int(form['ano']):04d}-{int(form['mes']):02d}"
        by_month = self.state["extratouso"].get(str(form["contrato"]), {})
        return self._answer(by_month.get(month, {"acessos": []}))

    async def promessa(self, request: web.Request) -> web.Response:
        document, form = await self._central(request)
        if document is None:
            return self._error("credentials_refused")
        contract_id = str(form.get("contrato"))
        if not self._owns(document, contract_id):
            return self._error("contract_not_found")
        answers = self.state["promessapagamento"]
        if contract_id in self.promises_used:
            return self._answer(answers["ja_utilizada"])
        contract = next(
            c for c in self._contracts_of(document) if str(c["contratoId"]) == contract_id
        )
        if contract["contratoStatus"] not in (4, 7):
            return self._answer(answers["nao_suspenso"])
        self.promises_used.add(contract_id)
        contract["contratoStatus"], contract["contratoStatusDisplay"] = 1, "Ativo"
        return self._answer(answers["liberado"])

    async def titulos(self, request: web.Request) -> web.Response:
        document, form = await self._central(request)
        if document is None:
            return self._error("credentials_refused")
        if not self._owns(document, form.get("contrato")):
            return self._error("contract_not_found")
        wanted = {int(form["status"])} if form.get("status") else {1, 2}
        faturas = [
            f for f in self.state["titulos"][str(form["contrato"])] if f["statusid"] in wanted
        ]
        offset, limit = int(form.get("offset", 0)), int(form.get("limit", 250))
        page = [self._fatura(f) for f in faturas[offset : offset + limit]]
        paging = {"offset": offset, "limit": limit, "parcial": len(page), "total": len(faturas)}
        return self._answer({"paginacao": paging, "faturas": page})

    def _fatura(self, fatura: dict[str, Any]) -> dict[str, Any]:
        answer = dict(fatura)
        if "relative-links" in self.variant and answer.get("link"):
            answer["link"] = answer["link"].replace("{BASE}", "")
        if "strings" in self.variant:
            for key in ("valor", "valorcorrigido", "valorpago"):
                answer[key] = _br_amount(answer.get(key))
            for key in ("vencimento", "vencimento_atualizado", "data_pagamento", "data_documento"):
                answer[key] = _br_date(answer.get(key))
            answer["statusid"] = str(answer["statusid"])
        return answer

    async def fatura2via(self, request: web.Request) -> web.Response:
        document, form = await self._central(request)
        if document is None:
            return self._error("credentials_refused")
        if not self._owns(document, form.get("contrato")):
            return self._error("contract_not_found")
        if form.get("nao_gerar_os") != "1":
            self.service_records_opened += 1
        return self._answer(self.state["fatura2via"][str(form["contrato"])])

    async def pix(self, request: web.Request) -> web.Response:
        document, form = await self._central(request)
        if document is None:
            return self._error("credentials_refused")
        contract_id = str(form.get("contrato"))
        if not self._owns(document, contract_id):
            return self._error("contract_not_found")
        for fatura in self.state["titulos"][contract_id]:
            if str(fatura["id"]) == request.match_info["id"]:
                answer = self.state["pagamento_pix"]["_default"]
                return self._answer(substitute(answer, {"PIX": fatura["codigopix"]}))
        return self._error("contract_not_found")

    async def chamados(self, request: web.Request) -> web.Response:
        document, form = await self._central(request)
        if document is None:
            return self._error("credentials_refused")
        if not self._owns(document, form.get("contrato")):
            return self._error("contract_not_found")
        chamados = [self._chamado_out(c) for c in self.state["chamados"].get(form["contrato"], [])]
        if "wrapped" in self.variant:
            return self._answer({"chamados": chamados})
        return self._answer(chamados)  # a bare array, as real installations answer

    @staticmethod
    def _chamado_out(chamado: dict[str, Any]) -> dict[str, Any]:
        """The recorded ticket with chamado/list's real field names (oc_* / os_*)."""
        status = {0: "Aberta", 1: "Encerrada", 2: "Em execução", 3: "Pendente"}[
            chamado["os_status"]
        ]
        return {
            "oc_protocolo": chamado["oc_protocolo"],
            "oc_tipo_descricao": chamado["oc_tipo"],
            "oc_data_cadastro": _br_date(chamado["data_cadastro"]),
            "oc_data_encerramento": _br_date(chamado["data_alteracao"])
            if chamado["os_status"] == 1
            else "",
            "oc_conteudo": chamado["conteudo"],
            "oc_status": chamado["os_status"],
            "oc_status_descricao": status,
            "os_id": chamado["os"],
            "os_status": chamado["os_status"],
            "os_status_descricao": status,
            "os_servicoprestado": "",
            "contrato_id": chamado["contrato"],
            "cliente": chamado["contato"],
            "data_alteracao": chamado["data_alteracao"],
            "anotacoes": chamado["anotacoes"],
            "anexos": chamado["anexos"],
        }

    async def tipos(self, request: web.Request) -> web.Response:
        document, _ = await self._central(request)
        if document is None:
            return self._error("credentials_refused")
        tipos = self.state["tipoocorrencia"]
        if "wrapped" in self.variant:  # the bare shape of /api/os/ocorrencia/tipo/list
            bare = [
                {"id": t["codigo"], "descricao": t["descricao"], "ativo": True}
                for t in tipos["tipos"]
            ]
            return self._answer(bare)
        return self._answer(tipos)

    async def abrir_chamado(self, request: web.Request) -> web.Response:
        document, form = await self._central(request)
        if document is None:
            return self._error("credentials_refused")
        contract_id = str(form.get("contrato"))
        if not self._owns(document, contract_id):
            return self._error("contract_not_found")
        os_id = next(self._ids)
        kinds = {str(t["codigo"]): t["descricao"] for t in self.state["tipoocorrencia"]["tipos"]}
        protocol = f"20261128{os_id:06d}"
        self.state["chamados"].setdefault(contract_id, []).append(
            {
                "os": os_id,
                "oc_protocolo": protocol,
                "oc_tipo": kinds.get(str(form.get("ocorrenciatipo")), "Outro"),
                "os_status": 0,
                "data_cadastro": now_text(),
                "data_alteracao": now_text(),
                "contrato": int(contract_id),
                "contato": "",
                "conteudo": form.get("conteudo", ""),
                "anotacoes": [],
                "anexos": [],
            }
        )
        answer = substitute(self.state["chamado_aberto"], {"OS": str(os_id), "PROTOCOLO": protocol})
        return self._answer(answer)

    def _chamado(self, contract_id: str, os_id: str) -> dict[str, Any]:
        return next(c for c in self.state["chamados"][contract_id] if str(c["os"]) == os_id)

    async def anotacao(self, request: web.Request) -> web.Response:
        document, form = await self._central(request)
        if document is None:
            return self._error("credentials_refused")
        os_id = request.match_info["os"]
        contract_id = self._contract_of_os(document, os_id)
        if contract_id is None:
            return self._error("contract_not_found")
        chamado = self._chamado(contract_id, os_id)
        chamado["anotacoes"].append(
            {
                "id": next(self._ids),
                "anotacao": form.get("anotacao", ""),
                "data": now_text(),
                "usuario": "central",
                "cliente": True,
            }
        )
        chamado["data_alteracao"], chamado["os_status"] = now_text(), 0
        return self._answer(self.state["anotacao_add"])

    async def anexo(self, request: web.Request) -> web.Response:
        document, form = await self._central(request)
        if document is None:
            return self._error("credentials_refused")
        os_id = request.match_info["os"]
        contract_id = self._contract_of_os(document, os_id)
        if contract_id is None:
            return self._error("contract_not_found")
        content = base64.b64decode(str(form["file_b64"]))
        name = str(form.get("filename") or "anexo")
        file_id = next(self._ids)
        self.files[f"anexos/{file_id}/{name}"] = (name, content)
        self._chamado(contract_id, os_id)["anexos"].append(
            {
                "id": file_id,
                "anotacao": None,
                "nome": name,
                "tipo": mimetypes.guess_type(name)[0] or "application/octet-stream",
                "tamanho": len(content),
                "url": f"{{BASE}}/media/anexos/{file_id}/{name}",
            }
        )
        return self._answer(self.state["anexo_add"])

    def notas(self, kind: str) -> Any:
        async def handler(request: web.Request) -> web.Response:
            document, form = await self._central(request)
            if document is None:
                return self._error("credentials_refused")
            if not self._owns(document, form.get("contrato")):
                return self._error("contract_not_found")
            notes = self.state[kind].get(str(form["contrato"]), {"notas": []})["notas"]
            if "wrapped" in self.variant:
                return self._answer({"status": 200, "data": notes})
            bare = [{**n, "valortotal": n["valor"]} for n in notes]
            return self._answer([{k: v for k, v in n.items() if k != "valor"} for n in bare])

        return handler

    async def nfcom_list(self, request: web.Request) -> web.Response:
        form = await self._ura(request)
        if form is None:
            return self._error("credentials_refused")
        return self._answer(self.state["nfcom"].get(str(form.get("contrato")), {"notas": []}))

    async def nfcom_print(self, request: web.Request) -> web.Response:
        form = await self._ura(request)
        if form is None:
            return self._error("credentials_refused")
        notes = self.state["nfcom"].get(str(form.get("contrato")), {"notas": []})["notas"]
        if not any(n["numero"] == request.match_info["numero"] for n in notes):
            return self._error("contract_not_found")
        return web.Response(body=PDF, content_type="application/pdf")

    async def ura_titulos(self, request: web.Request) -> web.Response:
        """Every subscriber's titles (URA, camelCase), filtered and paged by offset/limit."""
        form = await self._ura(request)
        if form is None:
            return self._error("credentials_refused")
        refused = self._ura_refused()
        if refused is not None:
            return refused
        return self._answer(ura_titles(self.state, form, strings="strings" in self.variant))

    async def consultacliente(self, request: web.Request) -> web.Response:
        form = await self._ura(request)
        if form is None:
            return self._error("credentials_refused")
        refused = self._ura_refused()
        if refused is not None:
            return refused
        document = _digits(str(form.get("cpfcnpj", "")))
        answers = self.state["consultacliente"]
        answer = deep(answers.get(document, {"contratos": []}))  # an unknown CPF: no contracts
        if "objects-in-lists" in self.variant:
            for contract in answer.get("contratos", []):
                for key in ("telefones", "emails"):
                    contract[key] = [
                        {"tipoContato": key[:-1], "contato": value, "inscricoes": []}
                        for value in contract.get(key, [])
                    ]
        return self._answer(answer)

    async def contato_add(self, request: web.Request) -> web.Response:
        form = await self._ura(request)
        if form is None:
            return self._error("credentials_refused")
        refused = self._ura_refused()
        if refused is not None:
            return refused
        contact_id = next(self._ids)
        for answer in self.state["consultacliente"].values():
            for contract in answer.get("contratos", []):
                if str(contract["contratoId"]) == str(form.get("contrato")):
                    contract.setdefault("contatos", []).append(
                        {"id": contact_id, "tipo": form.get("tipo"), "contato": form["contato"]}
                    )
                    answer_body = substitute(self.state["contato_add"], {"ID": str(contact_id)})
                    return self._answer(answer_body)
        return self._error("contract_not_found")

    async def pops(self, request: web.Request) -> web.Response:
        if await self._ura(request) is None:
            return self._error("credentials_refused")
        return self._answer(self.state["pops"])

    async def pdf(self, request: web.Request) -> web.Response:
        return web.Response(body=PDF, content_type="application/pdf")

    async def media(self, request: web.Request) -> web.Response:
        stored = self.files.get(request.match_info["tail"])
        if stored is not None:
            return web.Response(body=stored[1], content_type="application/octet-stream")
        return web.Response(body=PDF, content_type="application/pdf")
