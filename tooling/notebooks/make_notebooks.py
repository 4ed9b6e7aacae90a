#!/usr/bin/env python3
"""Writes notebooks/*.ipynb (IJava, French, no outputs) with nbformat.

Run from anywhere after editing: /usr/bin/python3 tooling/notebooks/make_notebooks.py
NotebooksTest checks that the committed notebooks are exactly what this script writes, and runs them all.
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

SETUP = '''import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.time.Duration;
import java.util.*;

String bootstrap = System.getenv().getOrDefault("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092");
Path kit = Path.of("").toAbsolutePath().getParent(); // le dossier du kit : ce notebook est dans kit/notebooks
String topic = "nb-" + UUID.randomUUID().toString().substring(0, 8);
try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", bootstrap))) {
    admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
}
System.out.println("broker : " + bootstrap + " ; topic de ce notebook : " + topic);

/** Écrit des messages (clé = valeur) avec un producteur acks=all. */
void fill(String t, List<String> values) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
        for (String v : values) producer.send(new ProducerRecord<>(t, v, v));
    }
}

/** Relit tout un topic, avec le niveau d'isolation demandé. */
List<String> readAll(String t, String isolation) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("isolation.level", isolation);
    p.put("key.deserializer", StringDeserializer.class.getName());
    p.put("value.deserializer", StringDeserializer.class.getName());
    List<String> values = new ArrayList<>();
    try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
        TopicPartition tp = new TopicPartition(t, 0);
        c.assign(List.of(tp));
        c.seekToBeginning(List.of(tp));
        long end = c.endOffsets(List.of(tp)).get(tp);
        long deadline = System.currentTimeMillis() + 10_000;
        while (c.position(tp) < end && System.currentTimeMillis() < deadline) c.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
    }
    return values;
}

/** Lance une commande du kit (./jbang ...) dans son propre processus : un crash ne tue pas ce noyau. */
String kitRun(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(kit.resolve("jbang").toString()));
    command.addAll(Arrays.asList(args));
    Process process = new ProcessBuilder(command).directory(kit.toFile()).redirectErrorStream(true).start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    System.out.print(out);
    if (process.waitFor() != 0) System.out.println("(code de sortie " + process.exitValue() + ")");
    return out;
}'''


def fault(scenario, what):
    return new_code_cell(
        f'// {what}\n'
        f'// le tour démarre son propre broker avec le proxy de pannes devant, et compte pertes et doublons\n'
        f'String out = kitRun("tour", "--scenario", "{scenario}");',
        metadata={"tags": ["panne"]})


def notebook(number, slug, cells):
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "java", "display_name": "Java", "language": "java"},
        "language_info": {"name": "java"},
    })
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{number:02d}-{i:02d}"  # stable ids: the file doesn't change when nothing changed
    return f"{number:02d}-{slug}.ipynb", nb


def md(text):
    return new_markdown_cell(text.strip())


def code(text):
    return new_code_cell(text.strip())


def setup_cells():
    return [md("## Préparation\nLe client Kafka, un topic neuf pour ce notebook, et deux outils : relire un topic, lancer une commande du kit."),
            code(MAVEN), code(SETUP)]


def a_vous(text):
    return md("## À vous\n" + text.strip())


NOTEBOOKS = [
    notebook(0, "demarrage", [
        md("""
# 00 — Démarrage : les sémantiques de livraison

Ces notebooks suivent le cours `SEMANTIQUES.md`, une sémantique par notebook. Ils utilisent un vrai
broker Kafka 4.4.0 : démarrez-le dans un terminal, depuis le dossier du kit, avec `./jbang broker`
(ou `docker compose up -d`). Il écoute sur `localhost:9092` ; ailleurs, réglez `KAFKA_BOOTSTRAP_SERVERS`.
"""),
        code(MAVEN),
        code('''
import org.apache.kafka.clients.admin.*;
import java.util.*;
import java.util.concurrent.TimeUnit;

String bootstrap = System.getenv().getOrDefault("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092");
Map<String, Object> config = Map.of("bootstrap.servers", bootstrap, "request.timeout.ms", 3000,
        "default.api.timeout.ms", 3000, "socket.connection.setup.timeout.max.ms", 1000);
try (Admin admin = Admin.create(config)) {
    int nodes = admin.describeCluster().nodes().get(4, TimeUnit.SECONDS).size();
    System.out.println("Broker joignable sur " + bootstrap + " : " + nodes + " nœud(s). Vous pouvez continuer.");
} catch (Exception e) {
    System.out.println("Aucun broker sur " + bootstrap + ". Démarrez-en un depuis le dossier du kit : ./jbang broker");
    System.out.println("(ou docker compose up -d), puis relancez cette cellule.");
}'''),
        md("""
## Qu'est-ce qu'une sémantique de livraison ?

Entre un producteur, le broker et un consommateur, des messages peuvent se perdre (requête perdue,
crash) ou être traités deux fois (réessai, relecture). La **sémantique** dit ce que l'application
garantit malgré ces pannes :

| | producteur | consommateur |
|---|---|---|
| **at-most-once** (au plus une fois) | `acks=0`, `retries=0` : perte possible, jamais de doublon | commit **puis** traitement |
| **at-least-once** (au moins une fois) | `acks=all`, `retries`, sans idempotence : doublons possibles, pas de perte | traitement **puis** commit |
| **exactly-once** (exactement une fois) | idempotence + `transactional.id` + transactions | offsets dans la transaction, `read_committed` |

Sur un broker en bonne santé, les trois se ressemblent : tout arrive une fois. Chaque notebook
provoque donc **la panne** qui montre la limite de la garantie, et compte ce qui a été perdu ou
dupliqué.
"""),
        a_vous("Quelle sémantique choisiriez-vous pour des relevés de température ? pour des virements bancaires ? Pourquoi ?"),
    ]),
    notebook(1, "producteur-at-most-once", [
        md("""
# 01 — Producteur at-most-once

> acks=0 : le broker ne confirme jamais → le producteur considère le message « envoyé » dès qu'il
> part sur le réseau. retries=0 : s'il y a un souci, aucun ré-essai → le message peut être perdu.
"""),
        *setup_cells(),
        md("## La configuration, une clé par ligne"),
        code('''
Properties config = new Properties();
config.put("bootstrap.servers", bootstrap);
config.put("acks", "0");                  // le broker ne confirme jamais
config.put("retries", 0);                 // aucun ré-essai : un souci, et le message est perdu
config.put("linger.ms", 0);               // on envoie tout de suite
config.put("enable.idempotence", false);  // ni idempotence ni transactions
config.put("key.serializer", StringSerializer.class.getName());
config.put("value.serializer", StringSerializer.class.getName());'''),
        md("## Sur le broker"),
        code('''
try (KafkaProducer<String, String> producer = new KafkaProducer<>(config)) {
    for (int i = 1; i <= 5; i++) producer.send(new ProducerRecord<>(topic, "amo-" + i, "amo-" + i));
    producer.flush();
}
System.out.println("relus : " + readAll(topic, "read_uncommitted"));'''),
        md("## La panne : une requête Produce perdue\nLe proxy de pannes jette la 3ᵉ requête Produce. Avec `acks=0`, personne ne le sait : le message est perdu."),
        fault("producer-at-most-once", "une requête perdue : at-most-once ne réessaie pas → perte"),
        a_vous("Passez `acks` à `all` dans la configuration ci-dessus : que devient la requête perdue ? Le producteur le sait-il ?"),
    ]),
    notebook(2, "producteur-at-least-once", [
        md("""
# 02 — Producteur at-least-once

> acks=all : le producteur attend que tous les réplicas confirment. retries>0 : on réessaie si un
> envoi échoue. enable.idempotence=False : les réessais peuvent générer des doublons (mais aucune perte).
"""),
        *setup_cells(),
        md("## La configuration, une clé par ligne"),
        code('''
Properties config = new Properties();
config.put("bootstrap.servers", bootstrap);
config.put("acks", "all");                // on attend l'accusé du leader et des réplicas
config.put("retries", 5);                 // on réessaie si une erreur survient
config.put("linger.ms", 5);               // petit délai de lot, pour la performance
config.put("enable.idempotence", false);  // pas d'idempotence → doublons possibles
config.put("key.serializer", StringSerializer.class.getName());
config.put("value.serializer", StringSerializer.class.getName());'''),
        md("## Sur le broker"),
        code('''
List<String> acked = Collections.synchronizedList(new ArrayList<>());
try (KafkaProducer<String, String> producer = new KafkaProducer<>(config)) {
    for (int i = 1; i <= 5; i++) {
        String value = "alo-" + i;
        producer.send(new ProducerRecord<>(topic, value, value), (metadata, error) -> { if (error == null) acked.add(value); });
    }
    producer.flush(); // tout ce qui est en mémoire part avant de quitter
}
System.out.println("acquittés : " + acked + "\\nrelus : " + readAll(topic, "read_uncommitted"));'''),
        md("## La panne : une réponse perdue\nLe broker écrit le lot, mais sa réponse se perd. Le producteur réessaie... et le lot est écrit deux fois."),
        fault("producer-at-least-once", "une réponse perdue : le réessai réécrit un lot déjà écrit → doublon"),
        a_vous("Activez `enable.idempotence` : le doublon disparaît-il ? Pourquoi le broker peut-il le reconnaître ?"),
    ]),
    notebook(3, "producteur-exactly-once", [
        md("""
# 03 — Producteur exactly-once

> init_transactions() → begin_transaction() → … → commit_transaction() ou abort_transaction().
> transactional.id : identifiant unique et stable → atomicité et reprise après crash sans doublons
> visibles. Côté lecture : isolation.level=read_committed pour ignorer les lots non validés.
"""),
        *setup_cells(),
        md("## La configuration, une clé par ligne"),
        code('''
Properties config = new Properties();
config.put("bootstrap.servers", bootstrap);
config.put("acks", "all");                  // confirmations complètes
config.put("enable.idempotence", true);     // requis pour l'exactly-once
config.put("retries", Integer.MAX_VALUE);   // réessais agressifs, sans doublons
config.put("linger.ms", 5);
config.put("transactional.id", "tx-" + topic); // active les transactions (unique et stable)
config.put("key.serializer", StringSerializer.class.getName());
config.put("value.serializer", StringSerializer.class.getName());'''),
        md("## Sur le broker : une transaction validée, une avortée"),
        code('''
try (KafkaProducer<String, String> producer = new KafkaProducer<>(config)) {
    producer.initTransactions();                 // 1) une fois : isole les zombies
    producer.beginTransaction();                 // 2) une transaction par lot
    for (int i = 1; i <= 3; i++) producer.send(new ProducerRecord<>(topic, "valide-" + i, "valide-" + i));
    producer.commitTransaction();                // 3a) tout le lot devient visible
    producer.beginTransaction();
    for (int i = 1; i <= 2; i++) producer.send(new ProducerRecord<>(topic, "avorte-" + i, "avorte-" + i));
    producer.flush();
    producer.abortTransaction();                 // 3b) rien du lot ne sera visible en read_committed
}
System.out.println("read_committed   : " + readAll(topic, "read_committed"));
System.out.println("read_uncommitted : " + readAll(topic, "read_uncommitted"));'''),
        md("## La panne : une réponse perdue\nLa même panne qui doublait le producteur at-least-once : ici, le réessai porte le même numéro de séquence, le broker l'écarte."),
        fault("producer-exactly-once", "une réponse perdue : l'idempotence écarte le réessai → ni perte ni doublon"),
        a_vous("Relancez la cellule des transactions sans `producer.flush()` avant `abortTransaction()` : que voit `read_uncommitted` ? Pourquoi ?"),
    ]),
    notebook(4, "consommateur-at-most-once", [
        md("""
# 04 — Consommateur at-most-once

> On valide (commit) l'offset avant de traiter → en cas de crash après le commit, le message est
> perdu (donc « au plus une fois »).
"""),
        *setup_cells(),
        md("## La configuration, une clé par ligne"),
        code('''
fill(topic, List.of("m-1", "m-2", "m-3", "m-4", "m-5"));
Properties config = new Properties();
config.put("bootstrap.servers", bootstrap);
config.put("group.id", "tp-at-most-once-" + topic);
config.put("enable.auto.commit", false);    // on contrôle le commit nous-mêmes
config.put("auto.offset.reset", "earliest");
config.put("key.deserializer", StringDeserializer.class.getName());
config.put("value.deserializer", StringDeserializer.class.getName());'''),
        md("## Sur le broker : commit, puis traitement"),
        code('''
try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config)) {
    consumer.subscribe(List.of(topic));
    int processed = 0;
    long deadline = System.currentTimeMillis() + 20_000;
    while (processed < 5 && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> msg : consumer.poll(Duration.ofMillis(200))) {
            // --- AT MOST ONCE : COMMIT AVANT TRAITEMENT ---
            consumer.commitSync(Map.of(new TopicPartition(msg.topic(), msg.partition()), new OffsetAndMetadata(msg.offset() + 1)));
            // puis seulement on traite (si ça plante ici, le message est perdu)
            System.out.printf("[%s p%d@%d] %s%n", msg.topic(), msg.partition(), msg.offset(), msg.value());
            processed++;
        }
    }
}'''),
        md("## La panne : un crash entre le commit et le traitement\nLe script du kit s'arrête brutalement (comme `kill -9`) au 5ᵉ message, juste après son commit. À la relance, l'offset validé le fait sauter."),
        fault("consumer-at-most-once", "crash après le commit du message 5, avant son traitement, puis relance → perte"),
        a_vous("Dans quel cas une perte est-elle acceptable ? Que se passe-t-il si on échange les deux lignes du traitement et du commit ?"),
    ]),
    notebook(5, "consommateur-at-least-once", [
        md("""
# 05 — Consommateur at-least-once

> On traite d'abord, puis on commit l'offset. En cas de crash entre les deux, le message sera
> re-livré ⇒ possible doublon, mais pas de perte.
"""),
        *setup_cells(),
        md("## La configuration, une clé par ligne"),
        code('''
fill(topic, List.of("m-1", "m-2", "m-3", "m-4", "m-5"));
Properties config = new Properties();
config.put("bootstrap.servers", bootstrap);
config.put("group.id", "tp-at-least-once-" + topic);
config.put("enable.auto.commit", false);    // on gère le commit nous-mêmes
config.put("auto.offset.reset", "earliest");
config.put("key.deserializer", StringDeserializer.class.getName());
config.put("value.deserializer", StringDeserializer.class.getName());'''),
        md("## Sur le broker : traitement, puis commit"),
        code('''
try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config)) {
    consumer.subscribe(List.of(topic));
    int processed = 0;
    long deadline = System.currentTimeMillis() + 20_000;
    while (processed < 5 && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> msg : consumer.poll(Duration.ofMillis(200))) {
            System.out.printf("[%s p%d@%d] %s%n", msg.topic(), msg.partition(), msg.offset(), msg.value()); // 1) traitement
            processed++;
            // on espère que ça n'a pas planté...
            consumer.commitSync(Map.of(new TopicPartition(msg.topic(), msg.partition()), new OffsetAndMetadata(msg.offset() + 1))); // 2) commit
        }
    }
}'''),
        md("## La panne : un crash entre le traitement et le commit\nLe message 5 est traité, puis le processus meurt avant son commit : la relance le relit."),
        fault("consumer-at-least-once", "crash après le traitement du message 5, avant son commit, puis relance → doublon"),
        a_vous("Comment rendre le traitement idempotent ? (indice : l'exercice `DedupConsumer` retient les clés déjà traitées)"),
    ]),
    notebook(6, "consommateur-exactly-once", [
        md("""
# 06 — Consommateur exactly-once

> Il faut « commit » les offsets dans une transaction Kafka (via un producteur transactionnel) : si
> l'appli tombe, Kafka garantit que soit tes offsets ont été committés (message traité), soit rien.
"""),
        *setup_cells(),
        md("## La configuration, une clé par ligne"),
        code('''
fill(topic, List.of("m-1", "m-2", "m-3", "m-4", "m-5"));
String output = topic + "-sortie";
Properties config = new Properties();
config.put("bootstrap.servers", bootstrap);
config.put("group.id", "g-exactly-once-" + topic);
config.put("enable.auto.commit", false);
config.put("auto.offset.reset", "earliest");
config.put("isolation.level", "read_committed");   // pour ignorer les transactions avortées
config.put("key.deserializer", StringDeserializer.class.getName());
config.put("value.deserializer", StringDeserializer.class.getName());
Properties producerConfig = new Properties();
producerConfig.put("bootstrap.servers", bootstrap);
producerConfig.put("transactional.id", "txn-consumer-" + topic); // unique et stable (idempotence implicite)
producerConfig.put("key.serializer", StringSerializer.class.getName());
producerConfig.put("value.serializer", StringSerializer.class.getName());'''),
        md("## Sur le broker : lire, écrire la sortie et valider l'offset dans la même transaction"),
        code('''
try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config);
     KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig)) {
    producer.initTransactions();   // obligatoire avant toute transaction
    consumer.subscribe(List.of(topic));
    int processed = 0;
    long deadline = System.currentTimeMillis() + 20_000;
    while (processed < 5 && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> msg : consumer.poll(Duration.ofMillis(200))) {
            producer.beginTransaction();
            System.out.printf("[%s p%d@%d] %s%n", msg.topic(), msg.partition(), msg.offset(), msg.value());
            producer.send(new ProducerRecord<>(output, msg.key(), msg.value()));
            // --- validation exactly-once : l'offset voyage DANS la transaction ---
            producer.sendOffsetsToTransaction(Map.of(new TopicPartition(msg.topic(), msg.partition()),
                    new OffsetAndMetadata(msg.offset() + 1)), consumer.groupMetadata());
            producer.commitTransaction(); // atomicité : sortie et offsets, ou rien
            processed++;
        }
    }
}
System.out.println("sortie (read_committed) : " + readAll(output, "read_committed"));'''),
        md("## La panne : un crash au milieu de la transaction\nLe script du kit meurt après avoir écrit la sortie et envoyé l'offset, avant `commitTransaction()`. La relance avorte la transaction du mort : la sortie n'a ni perte ni doublon."),
        fault("consumer-exactly-once", "crash au milieu de la transaction du message 5, puis relance → ni perte ni doublon"),
        a_vous("L'affichage du message 5 apparaît deux fois dans la sortie du script, mais pas dans le topic de sortie : pourquoi ? Que faudrait-il pour un effet de bord hors de Kafka (un e-mail, une base) ?"),
    ]),
    notebook(7, "cout-des-garanties", [
        md("""
# 07 — Le coût de chaque garantie

Le cours dit que `linger.ms=5` est « pour performance », et l'exactly-once a un prix. Combien ?
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
        a_vous("Relancez sans `--quick`. Le coût des transactions à 100 ms et 1 Ko est-il proche des 3 % annoncés par KIP-98 ? Et à 10 ms, avec des messages de 100 octets ?"),
    ]),
]


def main():
    out = pathlib.Path(os.environ.get("KIT_NOTEBOOKS_OUT", ROOT / "notebooks"))
    out.mkdir(exist_ok=True)
    for name, nb in NOTEBOOKS:
        nbformat.validate(nb)
        nbformat.write(nb, str(out / name))
        print(out / name)


if __name__ == "__main__":
    main()
