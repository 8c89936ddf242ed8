"""A small English/French/German topic data set (sport / politics) whose languages lingua tells apart offline."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

SENTENCES = {
    "EN": {
        "sport": ["The team won the match last night after a long fight",
                  "Our goalkeeper saved a penalty in the final minutes of the game",
                  "The players are training hard for the championship this weekend",
                  "The coach was very happy with the performance of his young players",
                  "The stadium was full when the home side scored the winning goal"],
        "politics": ["The government passed a new law about taxes yesterday",
                     "The minister answered questions from the members of parliament",
                     "The opposition party wants new elections before the summer",
                     "The president signed the agreement with the neighbouring countries",
                     "Voters will decide the future of the city council next month"],
    },
    "FR": {
        "sport": ["L'équipe a gagné le match hier soir après un long combat",
                  "Notre gardien a arrêté un penalty dans les dernières minutes du jeu",
                  "Les joueurs s'entraînent beaucoup pour le championnat de ce week-end",
                  "L'entraîneur était très content de la performance de ses jeunes joueurs",
                  "Le stade était plein quand l'équipe locale a marqué le but de la victoire"],
        "politics": ["Le gouvernement a adopté hier une nouvelle loi sur les impôts",
                     "Le ministre a répondu aux questions des députés de l'assemblée",
                     "Le parti de l'opposition veut de nouvelles élections avant l'été",
                     "Le président a signé l'accord avec les pays voisins",
                     "Les électeurs décideront de l'avenir du conseil municipal le mois prochain"],
    },
    "DE": {
        "sport": ["Die Mannschaft hat das Spiel gestern Abend nach einem langen Kampf gewonnen",
                  "Unser Torwart hat in den letzten Minuten des Spiels einen Elfmeter gehalten",
                  "Die Spieler trainieren hart für die Meisterschaft an diesem Wochenende",
                  "Der Trainer war mit der Leistung seiner jungen Spieler sehr zufrieden",
                  "Das Stadion war voll, als die Heimmannschaft das entscheidende Tor schoss"],
        "politics": ["Die Regierung hat gestern ein neues Gesetz über die Steuern beschlossen",
                     "Der Minister beantwortete die Fragen der Abgeordneten im Parlament",
                     "Die Oppositionspartei möchte vor dem Sommer neue Wahlen",
                     "Der Präsident hat das Abkommen mit den Nachbarländern unterschrieben",
                     "Die Wähler entscheiden nächsten Monat über die Zukunft des Stadtrats"],
    },
}


def rows(per_language: int, offset: int = 0) -> list[dict[str, str]]:
    """``per_language`` rows per language, labels alternating; returns text, label and the true language."""
    out = []
    for language, by_label in SENTENCES.items():
        sport, politics = ([(label, s) for s in by_label[label]] for label in ("sport", "politics"))
        cycle = itertools.cycle([pair for two in zip(sport, politics, strict=True) for pair in two])
        for i, (label, sentence) in enumerate(itertools.islice(cycle, offset, offset + per_language)):
            out.append({"text": sentence, "label": label, "language": language, "i": str(i)})
    return out


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return path
