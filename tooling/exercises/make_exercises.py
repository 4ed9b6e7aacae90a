#!/usr/bin/env python3
"""Derives exercises/X.java from solutions/X.java: each semantic line becomes a numbered // TODO.

Run from the kit root after changing a solution: /usr/bin/python3 tooling/exercises/make_exercises.py
(ExercisesTest checks that the committed exercises are what this script makes.)
"""
import os
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]

# file -> (title, [(exact line content, stripped; the TODO that replaces it, or a (replacement, TODO) pair)])
SPECS = {
    "ProducerAtMostOnce": ("producteur at-most-once", [
        ('config.put(ProducerConfig.ACKS_CONFIG, "0");', "acks : le broker ne doit rien confirmer"),
        ("config.put(ProducerConfig.RETRIES_CONFIG, 0);", "retries : une requête perdue n'est jamais renvoyée"),
        ("config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);", "enable.idempotence : elle exige acks=all, désactivez-la"),
    ]),
    "ProducerAtLeastOnce": ("producteur at-least-once", [
        ('config.put(ProducerConfig.ACKS_CONFIG, "all");', "acks : attendre que les réplicas synchronisés (ISR) aient le message"),
        ("config.put(ProducerConfig.RETRIES_CONFIG, 5);", "retries : renvoyer une requête restée sans réponse"),
        ("config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);",
         "enable.idempotence : at-least-once, c'est SANS idempotence (activée par défaut depuis Kafka 3.0)"),
    ]),
    "ProducerExactlyOnce": ("producteur exactly-once", [
        ("config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);", "enable.idempotence : le broker doit écarter les nouveaux essais"),
        ("config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);", "transactional.id : la variable transactionalId"),
        ("producer.initTransactions();", "une fois, au début : isoler les zombies, avorter leur transaction ouverte"),
        ("producer.abortTransaction();", "une erreur avortable : avorter la transaction (le lot ne sera jamais visible à moitié), puis recommencer"),
        ("producer.beginTransaction();", "ouvrir la transaction du lot"),
        ("producer.abortTransaction();", "avorter : rien du lot ne doit être visible en read_committed"),
        ("Transactions.commit(producer);", "valider : tout le lot devient visible d'un coup (Transactions.commit rappelle commitTransaction si elle expire)"),
    ]),
    "ConsumerAtMostOnce": ("consommateur at-most-once", [
        ("config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);", "enable.auto.commit : c'est vous qui validez les offsets"),
        ("consumer.commitSync(next);", "valider l'offset du message (commitSync) — at-most-once : AVANT le traitement"),
    ]),
    "ConsumerAtLeastOnce": ("consommateur at-least-once", [
        ("config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);", "enable.auto.commit : c'est vous qui validez les offsets"),
        ("consumer.commitSync(next);", "valider l'offset du message (commitSync) — at-least-once : APRÈS le traitement"),
    ]),
    "ConsumerExactlyOnce": ("consommateur exactly-once", [
        ("config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);", "enable.auto.commit : les offsets voyageront dans la transaction"),
        ('config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");', "isolation.level : ne jamais lire les transactions avortées"),
        ("producer.sendOffsetsToTransaction(next, consumer.groupMetadata());", "valider les offsets lus DANS la transaction du producteur"),
        ("Transactions.commit(producer);", "valider la transaction : sortie et offsets ensemble (Transactions.commit rappelle commitTransaction si elle expire)"),
        ("producer.abortTransaction();", "une erreur avortable : avorter la transaction"),
        ("rewindToCommitted(consumer);", "puis revenir aux derniers offsets validés, pour relire le lot avorté"),
    ]),
    "ZombieFencing": ("zombie fencing", [
        ("fenced = zombie(transaction, batch, failed);", ("throw e;", "nous sommes le zombie : le dire (zombie(...)) et sortir de la boucle, sans abortTransaction")),
        ("break;", None),
        ("if (fencedBy(abortFailed)) {", "l'avortement peut révéler l'écartement (fencedBy) : alors, comme plus haut"),
        ("fenced = zombie(transaction, batch, failed);", None),
        ("break;", None),
        ("}", None),
    ]),
    "DedupConsumer": ("traitement idempotent (dédoublonnage par identifiant de message)", [
        ('lines.forEach(line -> done.add(line.split("\\t", 2)[0]));',
         ("lines.forEach(line -> { });", "relire les identifiants du journal --store (le début de chaque ligne) : ils doivent survivre à un crash")),
        ("String id = msg.value();",
         ("String id = msg.key();", "l'identifiant du MESSAGE (sa valeur, unique : <runId>-<seq>), pas sa clé : "
          "deux messages distincts partagent une clé (deux mises à jour d'un même compte)")),
        ('Files.writeString(store, id + "\\t" + effect + "\\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.SYNC);',
         "l'effet ET sa marque en une seule écriture : ajouter au journal --store la ligne « id, tabulation, effet », "
         "forcée sur disque (SYNC), AVANT le commit"),
    ]),
    "ShareWorker": ("travailleur de file (share group) : acquitter après le traitement", [
        ("consumer.acknowledge(msg, AcknowledgeType.ACCEPT);",
         "traité : accepter le message (acknowledge, ACCEPT) ; ici, APRÈS le traitement, jamais avant"),
        ("consumer.acknowledge(msg, AcknowledgeType.REJECT);",
         "empoisonné : le rejeter (REJECT) ; rendu (RELEASE), il reviendrait jusqu'à la limite de livraisons"),
        ("Map<TopicIdPartition, Optional<KafkaException>> results = consumer.commitSync();",
         ("Map<TopicIdPartition, Optional<KafkaException>> results = Map.of();",
          "envoyer les acquittements au broker (commitSync) : le résultat dit, par partition, s'ils ont été pris en compte")),
    ]),
    "ConsumerDbExactlyOnce": ("consommateur exactly-once vers PostgreSQL (docs/BASE.md)", [
        ("if (!idempotent) seekToStoredOffsets(partitions);",
         "à l'assignation, se placer (seek) sur l'offset que la BASE a retenu, pas sur celui de Kafka : seekToStoredOffsets"),
        ("if (!idempotent) storeOffsets(next);",
         "écrire l'offset suivant de chaque partition (storeOffsets) DANS la transaction SQL des lignes"),
        ("db.commit();", "valider la transaction SQL : les lignes et les offsets ensemble, ou rien"),
    ]),
}


def exercise(name: str) -> str:
    title, todos = SPECS[name]
    lines = (ROOT / "solutions" / f"{name}.java").read_text(encoding="utf-8").split("\n")
    out, n, pos = [], 0, 0
    for target, todo in todos:
        while lines[pos].strip() != target:
            out.append(lines[pos])
            pos += 1
            if pos >= len(lines):
                sys.exit(f"{name}: ligne introuvable : {target}")
        indent = lines[pos][: len(lines[pos]) - len(lines[pos].lstrip())]
        # the comments right above the line give the answer away: they go too
        while out and out[-1].strip().startswith("//") and not out[-1].strip().startswith("// TODO"):
            out.pop()
        if todo is not None:
            n += 1
            replacement, text = todo if isinstance(todo, tuple) else (None, todo)
            out.append(f"{indent}// TODO {n} : {text}")
            if replacement:
                out.append(indent + replacement)
        pos += 1
    out.extend(lines[pos:])
    deps = max(i for i, l in enumerate(out) if l.startswith("//DEPS"))
    header = [
        f"// EXERCICE : {title}. Complétez les {n} « TODO », dans l'ordre, puis faites-vous corriger :",
        f"//   ./jbang grade {name}.java   (le correcteur le lance sous des pannes et explique ce qui cloche)",
        "// Gardez le nom du fichier, les options et la sortie : c'est le contrat de docs/CONTRAT.md.",
    ]
    return "\n".join(out[: deps + 1] + header + out[deps + 1:])


if __name__ == "__main__":
    out = pathlib.Path(os.environ.get("KIT_EXERCISES_OUT", ROOT / "exercises"))
    out.mkdir(exist_ok=True)
    for name in SPECS:
        (out / f"{name}.java").write_text(exercise(name), encoding="utf-8")
        print(out / f"{name}.java")
