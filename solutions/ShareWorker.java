///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS org.apache.kafka:kafka-clients:4.4.0
//DEPS info.picocli:picocli:4.7.7
//DEPS org.slf4j:slf4j-simple:2.0.17

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicIdPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * TRAVAILLEUR DE FILE (share group, KIP-932, Kafka 4.2+) : chaque message est acquitté APRÈS son traitement, selon son issue.
 *
 * Les membres d'un groupe de partage se partagent les messages d'une même partition ; le broker prête chaque message
 * à un seul d'entre eux sous un verrou à durée limitée. Le programme répond pour chacun : ACCEPT (traité, fini),
 * RELEASE (échec passager : qu'on le relivre), REJECT (empoisonné : il échouera toujours, jamais plus livré).
 * Un message non acquitté à la fin du verrou (crash, lenteur) est relivré, « livraison 2 » : at-least-once, un effet
 * peut avoir lieu deux fois. Un message relivré revient APRÈS des offsets plus grands : l'ordre n'est pas garanti.
 * Un groupe neuf part de la fin (share.auto.offset.reset=latest) : lancez le travailleur avant d'écrire, ou réglez
 * le groupe : kafka-configs.sh --bootstrap-server localhost:9092 --alter --entity-type groups
 * --entity-name travailleurs --add-config share.auto.offset.reset=earliest
 */
@Command(name = "ShareWorker", mixinStandardHelpOptions = true, version = "kafka-clients 4.4.0",
        description = "Travailleur de file (share group) : ACCEPT après le traitement, RELEASE sur échec passager, REJECT sur message empoisonné.")
public class ShareWorker implements Callable<Integer> {

    @Option(names = {"-b", "--bootstrap-server"}, defaultValue = "${env:KAFKA_BOOTSTRAP_SERVERS:-localhost:9092}",
            description = "Adresse du broker (défaut : ${DEFAULT-VALUE}).")
    String bootstrap;
    @Option(names = {"-t", "--topic"}, defaultValue = "semantiques", description = "Topic lu (défaut : ${DEFAULT-VALUE}).")
    String topic;
    @Option(names = {"-g", "--group"}, defaultValue = "travailleurs", description = "Groupe de partage (défaut : ${DEFAULT-VALUE}).")
    String group;
    @Option(names = "--idle-ms", defaultValue = "3000", description = "S'arrête après ce silence, en ms, une fois un premier message reçu (défaut : ${DEFAULT-VALUE}).")
    long idleMs;
    @Option(names = "--crash-after", defaultValue = "0", description = "Crash brutal pendant le traitement du N-ième message reçu, avant son acquittement.")
    int crashAfter;
    @Option(names = "--poison", description = "Le traitement des messages dont la valeur contient ce texte échoue à chaque fois (message empoisonné).")
    String poison;
    @Option(names = "--flaky", description = "Le premier essai, par ce programme, des messages dont la valeur contient ce texte échoue (échec passager).")
    String flaky;
    @Option(names = "--config", description = "Fichier de propriétés client en plus (SASL/SSL...).")
    Path configFile;
    @Option(names = "-v", description = "Journaux du client Kafka (-v info, -vv debug).")
    boolean[] verbose = new boolean[0];

    /** Le traitement échouera toujours : inutile de réessayer. */
    static final class PoisonRecord extends Exception {
        PoisonRecord(String why) { super(why); }
    }

    /** Le traitement a échoué cette fois-ci (service indisponible...) : un autre essai peut réussir. */
    static final class TransientFailure extends Exception {
        TransientFailure(String why) { super(why); }
    }

    private int attempts;
    private final Set<String> triedHere = new HashSet<>();

    public static void main(String... args) {
        System.exit(Plumbing.finish(Plumbing.commandLine(new ShareWorker()).execute(args)));
    }

    @Override
    public Integer call() throws Exception {
        Plumbing.logLevel(verbose);
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        // group.id : le groupe de PARTAGE ; tous ses membres lisent les mêmes partitions, chaque message va à un seul
        config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        // share.acknowledgement.mode=explicit : chaque message reçu est acquitté par le programme, avant le poll suivant
        config.put(ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG, "explicit");
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        Plumbing.merge(config, configFile);
        Plumbing.requireBroker(config);

        int received = 0;
        int accepted = 0;
        int released = 0;
        int rejected = 0;
        int redelivered = 0;
        List<String> ackErrors = new ArrayList<>();
        long last = System.currentTimeMillis();
        boolean started = false;
        KafkaShareConsumer<String, String> consumer = new KafkaShareConsumer<>(config);
        Plumbing.onCtrlC(consumer::wakeup, "travailleur arrêté proprement (ses messages non acquittés reviendront à la fin du verrou)");
        consumer.subscribe(List.of(topic));
        try {
            while (!Plumbing.stopping()) {
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
                if (records.isEmpty()) {
                    long silence = System.currentTimeMillis() - last;
                    if (started && silence > idleMs) break;
                    if (!started && silence > Math.max(idleMs, 10_000)) {
                        System.out.println("aucun message reçu en " + Math.max(idleMs, 10_000) / 1000 + " s pour le groupe « " + group
                                + " » (topic vide ? groupe neuf en share.auto.offset.reset=latest : il ne voit que les messages écrits après)");
                        break;
                    }
                    continue;
                }
                started = true;
                for (ConsumerRecord<String, String> msg : records) {
                    received++;
                    if (msg.deliveryCount().orElse((short) 1) > 1) redelivered++;
                    AcknowledgeType ack;
                    // --- TRAITEMENT PUIS ACQUITTEMENT, SELON SON ISSUE ---
                    try {
                        process(msg);
                        // traité : l'acquitter maintenant, jamais avant (un crash pendant le traitement le ferait perdre)
                        consumer.acknowledge(msg, AcknowledgeType.ACCEPT);
                        ack = AcknowledgeType.ACCEPT;
                        accepted++;
                    } catch (TransientFailure e) {
                        // échec passager : le rendre, il reviendra (livraison suivante), peut-être après des messages plus récents
                        consumer.acknowledge(msg, AcknowledgeType.RELEASE);
                        ack = AcknowledgeType.RELEASE;
                        released++;
                    } catch (PoisonRecord e) {
                        // empoisonné : le rejeter, sinon il revient jusqu'à la limite de livraisons, puis il est archivé
                        consumer.acknowledge(msg, AcknowledgeType.REJECT);
                        ack = AcknowledgeType.REJECT;
                        rejected++;
                    }
                    System.out.printf("[%s p%d@%d] %s (livraison %d, %s)%n", msg.topic(), msg.partition(), msg.offset(), msg.value(),
                            msg.deliveryCount().orElse((short) 1), ack.name());
                }
                // les acquittements partent au broker ; le résultat dit, par partition, s'ils ont été pris en compte
                Map<TopicIdPartition, Optional<KafkaException>> results = consumer.commitSync();
                results.forEach((partition, error) -> error.ifPresent(e -> {
                    // appliqué ou non par le broker, impossible de le savoir ; non appliqué, ces messages reviendront
                    ackErrors.add(partition.topicPartition() + ":" + e.getClass().getSimpleName());
                    System.out.println("acquittement sans confirmation sur " + partition.topicPartition() + " (" + e.getMessage() + ")");
                }));
                last = System.currentTimeMillis();
            }
        } catch (WakeupException e) {
            // Ctrl-C : poll() a été réveillé, on ferme proprement
        } finally {
            consumer.close();
        }
        System.out.printf("--- Résumé (travailleur de file) --- reçus : %d, acceptés : %d, rendus : %d, rejetés : %d, relivrés : %d, "
                + "acquittements sans confirmation : %d%n", received, accepted, released, rejected, redelivered, ackErrors.size());
        System.out.println("RESUME role=consumer semantic=share-at-least-once topic=" + topic + " group=" + group
                + " received=" + received + " processed=" + accepted + " released=" + released + " rejected=" + rejected
                + " redelivered=" + redelivered + " ackErrors=" + String.join(",", ackErrors));
        return 0;
    }

    /** Le traitement d'un message : il peut planter (--crash-after) ou échouer (--poison, --flaky). */
    private void process(ConsumerRecord<String, String> msg) throws PoisonRecord, TransientFailure {
        if (++attempts == crashAfter) Plumbing.crash("pendant le traitement de l'offset " + msg.offset() + ", avant son acquittement");
        if (poison != null && msg.value().contains(poison)) throw new PoisonRecord("message empoisonné : " + msg.value());
        if (flaky != null && msg.value().contains(flaky) && triedHere.add(msg.value())) {
            throw new TransientFailure("échec passager sur " + msg.value());
        }
    }

    // ---- plomberie (pas besoin de la lire pour le cours) -------------------------------------------

    static String randomRunId() {
        Random r = new Random();
        return r.ints(6, 0, 36).mapToObj(i -> Character.toString(Character.forDigit(i, 36))).collect(Collectors.joining());
    }

    /** Options, broker check, Ctrl-C and crash: the same in the six scripts (see docs/CONTRAT.md). */
    static final class Plumbing {
        private static volatile boolean stopping;
        private static final CountDownLatch finished = new CountDownLatch(1);

        static CommandLine commandLine(Object command) {
            return new CommandLine(command).setExecutionExceptionHandler((e, cl, parsed) -> {
                System.err.println("Erreur : " + (e.getMessage() == null ? e.toString() : e.getMessage()));
                return 1;
            });
        }

        /** Client chatter stays quiet unless -v: what the student must see goes to stdout. */
        static void logLevel(boolean[] verbose) {
            String level = verbose.length == 0 ? "error" : verbose.length == 1 ? "info" : "debug";
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", level);
            System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        }

        /**
         * Adds the --config file's settings (security, timeouts...). One that changes a key the semantic rests on is
         * applied too, but never silently: a French warning says what it does to the guarantee.
         */
        static void merge(Properties config, Path file) {
            if (file == null) return;
            Properties extra = new Properties();
            try (Reader in = Files.newBufferedReader(file)) {
                extra.load(in);
            } catch (IOException e) {
                throw new IllegalArgumentException("fichier --config illisible : " + file + " (" + e.getMessage() + ")");
            }
            boolean producer = config.containsKey("key.serializer");
            var def = producer ? org.apache.kafka.clients.producer.ProducerConfig.configDef()
                    : org.apache.kafka.clients.consumer.ConsumerConfig.configDef();
            for (String key : new java.util.TreeSet<>(extra.stringPropertyNames())) {
                String now = extra.getProperty(key).strip();
                // every key is passed on (a serializer's or an interceptor's too); only this client's own can warn
                Object before = config.containsKey(key) ? config.get(key) : def.defaultValues().get(key);
                String effect = def.names().contains(key) ? effect(key, now, config) : null;
                if (effect != null && !String.valueOf(before).equalsIgnoreCase(now)) {
                    System.err.printf("Attention : --config change %s de « %s » en « %s » : %s.%n", key, before, now, effect);
                }
                config.put(key, now);
            }
            // group.protocol=consumer (KIP-848) : le broker fixe alors le délai de session, le client ne le peut plus
            if ("consumer".equalsIgnoreCase(String.valueOf(config.get("group.protocol"))) && !extra.containsKey("session.timeout.ms")) {
                config.remove("session.timeout.ms");
            }
        }

        /**
         * What a value of a key the semantics rest on does to the guarantee, given the config merged so far (the file's
         * keys come in alphabetical order: acks and delivery.timeout.ms before retries); null for any other key.
         */
        static String effect(String key, String value, Properties config) {
            String v = value.toLowerCase(java.util.Locale.ROOT);
            return switch (key) {
                case "acks" -> v.equals("0") ? "le broker ne confirme plus rien, une requête perdue est un message perdu sans erreur"
                        : v.equals("1") ? "seul le leader confirme, un message confirmé est perdu si le leader tombe avant qu'un suiveur l'ait copié"
                        : "le leader confirme quand les réplicas synchronisés (ISR) ont le message, pas tous les réplicas, et refuse "
                        + "l'écriture s'ils sont moins que min.insync.replicas (ramené au nombre de réplicas s'il le dépasse) ; avec "
                        + "min.insync.replicas=1 (défaut du broker) l'ISR peut se réduire au leader et acks=all ne vaut pas mieux que "
                        + "acks=1, comme sur le lab à 1 nœud (une seule copie). Un message confirmé survit à la chute du leader avec "
                        + "3 réplicas, min.insync.replicas=2 et unclean.leader.election.enable=false ; Kafka n'écrit pas chaque message "
                        + "sur disque (pas de fsync), ce sont les copies qui le protègent";
                case "retries" -> "0".equals(String.valueOf(config.get("acks")).strip())
                        ? "avec acks=0, retries ne change presque rien : le broker ne répond pas, le producteur ne voit pas d'échec à "
                        + "réessayer (seule une connexion coupée avant la fin de l'écriture d'une requête la fait renvoyer)"
                        : v.equals("0") ? "plus aucun nouvel essai, une requête ou une réponse perdue devient un message en échec, perdu si le programme n'en fait rien"
                        : "les envois sans réponse ou refusés pour un temps sont renvoyés, " + value + " fois au plus et tant que "
                        + "delivery.timeout.ms (" + config.getOrDefault("delivery.timeout.ms", "120000") + " ms) n'est pas écoulé : ce délai "
                        + "borne les essais quoi que vaille retries (défauts de Kafka : retries=2147483647, delivery.timeout.ms=120000) ; "
                        + "sans idempotence, une réponse perdue fait un doublon, et avec plusieurs requêtes en vol un renvoi peut changer l'ordre";
                case "enable.idempotence" -> v.equals("true") ? "le broker écarte les renvois (numéros de séquence), plus de doublon dû aux nouveaux essais"
                        : "un nouvel essai peut écrire un message deux fois (doublon), ou, avec plusieurs requêtes en vol, changer l'ordre";
                case "max.in.flight.requests.per.connection" -> "plusieurs requêtes en vol : sans idempotence, un nouvel essai peut changer l'ordre";
                case "transactional.id" -> "une autre identité de transaction, un autre programme qui la partage sera écarté (fencing)";
                case "isolation.level" -> v.equals("read_committed")
                        ? "la lecture s'arrête au dernier offset stable (LSO) : les messages des transactions avortées sont sautés, et une "
                        + "transaction ouverte bloque tout ce qui la suit dans la partition, messages non transactionnels compris, "
                        + "jusqu'à son commit, son abandon ou son expiration (transaction.timeout.ms)"
                        : "les messages des transactions avortées ou en cours sont lus aussi, exactly-once ne tient plus à la lecture";
                case "enable.auto.commit" -> v.equals("true")
                        ? "le client Java valide lui-même, dans poll() (toutes les auto.commit.interval.ms, 5 s par défaut), avant un "
                        + "rééquilibrage et dans close(), la position des messages que poll() a déjà rendus : après un crash, ceux traités "
                        + "depuis la dernière validation sont relus (doublons, at-least-once) ; la perte vient d'un close() après un lot "
                        + "à moitié traité (tout le lot est validé, la fin n'est jamais traitée). librdkafka (le client Python du cours) "
                        + "valide, lui, en tâche de fond : un crash peut y perdre un message rendu mais pas encore traité"
                        : "les offsets ne sont validés que par le programme";
                case "auto.offset.reset" -> v.equals("latest") ? "sans offset validé, la lecture part de la fin : les messages déjà là sont sautés"
                        : "sans offset validé, la lecture part " + (v.equals("earliest") ? "du début du topic" : "de « " + value + " »");
                case "group.id" -> "un autre groupe, donc d'autres offsets validés : la lecture reprend ailleurs";
                default -> null;
            };
        }

        /** The values the client really uses for those keys, as Kafka resolves them (defaults included), for the summary. */
        static String effective(Properties config) {
            boolean producer = config.containsKey("key.serializer");
            java.util.Map<String, ?> values = producer ? new org.apache.kafka.clients.producer.ProducerConfig(config).values()
                    : new org.apache.kafka.clients.consumer.ConsumerConfig(config).values();
            List<String> keys = producer ? List.of("acks", "retries", "enable.idempotence", "max.in.flight.requests.per.connection", "transactional.id")
                    : List.of("isolation.level", "enable.auto.commit", "auto.offset.reset", "group.protocol", "group.instance.id");
            // acks=-1 is how Kafka spells acks=all
            return keys.stream().filter(k -> values.get(k) != null)
                    .map(k -> k + "=" + (k.equals("acks") && "-1".equals(values.get(k)) ? "all" : values.get(k))).collect(Collectors.joining(" "));
        }

        /** Fails in seconds, in French, when no broker answers (Kafka's own default is to wait 60 s). */
        static void requireBroker(Properties clientConfig) {
            Properties p = new Properties();
            p.putAll(clientConfig);
            p.keySet().removeIf(k -> !org.apache.kafka.clients.admin.AdminClientConfig.configNames().contains(k.toString()));
            p.put("request.timeout.ms", "3000");
            p.put("default.api.timeout.ms", "5000");
            p.put("socket.connection.setup.timeout.ms", "1000");
            p.put("socket.connection.setup.timeout.max.ms", "1000");
            try (Admin admin = Admin.create(p)) {
                admin.describeCluster().nodes().get(6, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("aucun broker Kafka joignable sur " + clientConfig.get("bootstrap.servers")
                        + ". Démarrez-en un : ./jbang broker (ou docker compose up -d).");
            }
        }

        /** Ctrl-C: stop the loop (wakeUp unblocks it), let main close and print its summary; the JVM exits with 130. */
        static void onCtrlC(Runnable wakeUp, String what) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                if (finished.getCount() == 0) return;
                stopping = true;
                wakeUp.run();
                try {
                    finished.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException ignored) {
                }
                System.out.println("Interrompu (Ctrl-C) : " + what + ".");
            }));
        }

        static boolean stopping() { return stopping; }

        /** main's last step: releases a waiting Ctrl-C hook once the summary is printed. */
        static int finish(int exitCode) {
            finished.countDown();
            return exitCode;
        }

        /** A crash as kill -9 would do it: no close, no flush, no shutdown hook. */
        static void crash(String where) {
            System.out.println("CRASH simulé : " + where + ".");
            System.out.flush();
            Runtime.getRuntime().halt(137);
        }

        static String join(java.util.Collection<Integer> seqs) {
            return seqs.stream().sorted().map(String::valueOf).collect(Collectors.joining(","));
        }
    }
}
