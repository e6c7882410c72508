"""What the hand-off says, to the subscriber and in the team's topic (pt-BR, Telegram HTML)."""

from __future__ import annotations

from html import escape

BUTTON_HANDOFF = "👩‍💼 Falar com atendente"
BUTTON_END = "✖️ Encerrar atendimento"
BUTTON_TICKET = "📝 Abrir chamado"
BUTTON_WAIT = "⏳ Continuar aguardando"

NOT_AVAILABLE = (
    "O atendimento por aqui ainda não está disponível. Você pode abrir um chamado que a nossa "
    "equipe responde por ele."
)
LOGIN_FIRST = "Para falar com um atendente, entre primeiro com seu CPF/CNPJ."
NOT_FROM_PASSWORD = (
    "Termine (ou cancele) a troca de senha antes de falar com um atendente: por segurança, "
    "sua senha nunca é enviada à equipe."
)
QUEUED = (
    "Você está na fila de atendimento. Assim que alguém da equipe responder, a conversa "
    "continua aqui. Pode ir escrevendo (e mandando fotos ou documentos) enquanto espera."
)
ALREADY = "Você já está em atendimento: é só escrever aqui."
ENDED_BY_SUBSCRIBER = "Atendimento encerrado. Obrigado pelo contato!"
ENDED_BY_TEAM = "A equipe encerrou o atendimento. Obrigado pelo contato!"
NO_REPLY = (
    "A nossa equipe ainda não conseguiu responder. Quer que eu abra um chamado com o que você "
    "já escreveu? Você também pode continuar aguardando."
)
KEEP_WAITING = "Certo, você continua na fila."
UNAVAILABLE = "Não consegui falar com a equipe agora. Tente de novo em alguns minutos."
TICKET_FAILED = "Não consegui abrir o chamado agora. Tente de novo em alguns minutos."

TEAM_ENDED_BY_SUBSCRIBER = "🔚 O cliente encerrou o atendimento."
TEAM_ENDED_BY_TEAM = "🔚 Atendimento encerrado por {name}."
TEAM_TICKET = "🔚 O cliente preferiu abrir um chamado: protocolo {protocol}."
TEAM_ADMINS_ONLY = "Só administradores deste grupo atendem clientes: esta mensagem não foi enviada."
TEAM_NOT_OPEN = "Não há atendimento aberto neste tópico."
TEAM_TAKEN = "{name} já está atendendo este cliente: esta mensagem não foi enviada."


def out_of_hours(hours: tuple[str, ...]) -> str:
    listed = "; ".join(escape(h) for h in hours)
    return (
        f"Nossa equipe atende {listed} (horário de Brasília). Agora estamos fora do horário: "
        "quer abrir um chamado? Ele é respondido assim que possível."
    )


def taken(first_name: str) -> str:
    return f"<b>{escape(first_name)}</b> está te atendendo."


def ticket_opened(protocol: str) -> str:
    return (
        f"Chamado aberto, protocolo <b>{escape(protocol)}</b>, com o que você escreveu. A equipe "
        "responde por ele, e eu te aviso aqui."
    )


def transcript_heading(agent: str | None) -> str:
    return f"Conversa com a equipe pelo Telegram ({agent or 'sem resposta'}):"
