"""A small fleet application: it puts newly registered Sims to work, and answers the
SMS commands its devices send. It knows only Twilio's SDK; tests hand it a client
pointed at fleetsim, production a plain `twilio.rest.Client(sid, token)`."""

from __future__ import annotations

from dataclasses import dataclass, field

from twilio.rest import Client


@dataclass
class FleetApp:
    client: Client
    fleet: str  # the Fleet SID or unique name new Sims join
    handled: set[str] = field(default_factory=set)  # SMS Command SIDs already answered

    def activate_new_sims(self) -> list[str]:
        """Every Sim still `new` joins the Fleet and is activated; their SIDs."""
        v1 = self.client.supersim.v1
        activated = []
        for sim in v1.sims.list(status="new"):
            v1.sims(sim.sid).update(fleet=self.fleet)
            v1.sims(sim.sid).update(status="active")
            activated.append(sim.sid)
        return activated

    def answer_commands(self) -> int:
        """Answer every SMS command the devices sent since the last call; how many.

        PING -> PONG; STATUS -> the Sim's status; SLEEP -> the Sim is deactivated (and
        told so). Anything else is answered with the list of commands."""
        v1 = self.client.supersim.v1
        answered = 0
        for command in reversed(v1.sms_commands.list(direction="from_sim")):
            if command.sid in self.handled:
                continue
            self.handled.add(command.sid)
            word = (command.payload or "").strip().upper()
            if word == "PING":
                reply = "PONG"
            elif word == "STATUS":
                reply = f"STATUS {v1.sims(command.sim_sid).fetch().status}"
            elif word == "SLEEP":
                v1.sims(command.sim_sid).update(status="inactive")
                reply = "SLEEPING"
            else:
                reply = "UNKNOWN; try PING, STATUS or SLEEP"
            v1.sms_commands.create(sim=command.sim_sid, payload=reply)
            answered += 1
        return answered
