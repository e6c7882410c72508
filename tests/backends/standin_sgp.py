"""A local SGP: the Central and URA endpoints the adapter uses, over recorded answers."""

from __future__ import annotations

import base64
import itertools
import mimetypes
import re
from typing import Any

from aiohttp import web

from tests.backends.standin import PDF, StandIn, deep, fixture, now_text, substitute


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


# Ways real installations answer differently (see conftest.SGP_VARIANTS / IXC_VARIANTS).
VARIANTS: frozenset[str] = frozenset()


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
        form = dict(await request.post())
        document = _digits(str(form.get("cpfcnpj", "")))
        if self.accounts["central"].get(document) != form.get("senha"):
            return None, form
        return document, form

    async def _ura(self, request: web.Request) -> dict[str, Any] | None:
        form = dict(await request.post())
        integration = self.accounts["integration"]
        if form.get("token") != integration["token"] or form.get("app") != integration["app"]:
            return None
        return form

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
        app.router.add_post("/api/ura/contato/add/", self.contato_add)
        app.router.add_post("/api/ura/pops/", self.pops)
        app.router.add_get("/boleto/{name}", self.pdf)
        app.router.add_get("/media/{tail:.*}", self.media)

    async def contratos(self, request: web.Request) -> web.Response:
        document, _ = await self._central(request)
        if document is None:
            return self._error("credentials_refused")
        return self._answer(self.state["central_contratos"][document])

    async def verificaacesso(self, request: web.Request) -> web.Response:
        document, form = await self._central(request)
        if document is None:
            return self._error("credentials_refused")
        if not self._owns(document, form.get("contrato")):
            return self._error("contract_not_found")
        return self._answer(self.state["verificaacesso"][str(form["contrato"])])

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
        return self._answer({"faturas": faturas[offset : offset + limit]})

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
        return self._answer({"chamados": self.state["chamados"].get(str(form["contrato"]), [])})

    async def tipos(self, request: web.Request) -> web.Response:
        document, _ = await self._central(request)
        if document is None:
            return self._error("credentials_refused")
        return self._answer(self.state["tipoocorrencia"])

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
            return self._answer(self.state[kind].get(str(form["contrato"]), {"notas": []}))

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

    async def consultacliente(self, request: web.Request) -> web.Response:
        form = await self._ura(request)
        if form is None:
            return self._error("credentials_refused")
        document = _digits(str(form.get("cpfcnpj", "")))
        answers = self.state["consultacliente"]
        return self._answer(answers.get(document, answers["not_found"]))

    async def contato_add(self, request: web.Request) -> web.Response:
        form = await self._ura(request)
        if form is None:
            return self._error("credentials_refused")
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
