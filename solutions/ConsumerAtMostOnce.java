///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS org.apache.kafka:kafka-clients:4.4.0
//DEPS info.picocli:picocli:4.7.7
//DEPS org.slf4j:slf4j-simple:2.0.17

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
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
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * CONSOMMATEUR AT-MOST-ONCE : « au plus une fois ».
 *
 * On valide (commit) l'offset AVANT de traiter le message. En cas de crash après le commit, le
 * message ne sera plus jamais relu : il est PERDU. En revanche, jamais de doublon.
 * À observer : lancez avec --crash-after 5, puis relancez sans : le message 5 n'apparaît nulle part.
 */
@Command(name = "ConsumerAtMostOnce", mixinStandardHelpOptions = true, version = "kafka-clients 4.4.0",
        description = "Consommateur at-most-once : commit de l'offset AVANT le traitement (pertes possibles, jamais de doublon).")
public class ConsumerAtMostOnce implements Callable<Integer> {

    @Option(names = {"-b", "--bootstrap-server"}, defaultValue = "${env:KAFKA_BOOTSTRAP_SERVERS:-localhost:9092}",
            description = "Adresse du broker (défaut : ${DEFAULT-VALUE}).")
    String bootstrap;
    @Option(names = {"-t", "--topic"}, defaultValue = "semantiques", description = "Topic lu (défaut : ${DEFAULT-VALUE}).")
    String topic;
    @Option(names = {"-g", "--group"}, defaultValue = "tp-at-most-once", description = "Groupe de consommateurs (défaut : ${DEFAULT-VALUE}).")
    String group;
    @Option(names = "--instance-id", description = "Identité stable dans le groupe (membre statique) : relancé avec la même, "
            + "le consommateur reprend aussitôt ses partitions. Aucune par défaut : chaque consommateur lancé est un nouveau membre.")
    String instanceId;
    @Option(names = "--max", defaultValue = "0", description = "S'arrête après N messages traités (0 : pas de limite).")
    int max;
    @Option(names = "--idle-ms", defaultValue = "3000", description = "S'arrête après ce silence, en ms (défaut : ${DEFAULT-VALUE}).")
    long idleMs;
    @Option(names = "--crash-after", defaultValue = "0", description = "Crash brutal sur le N-ième message : après son commit, avant son traitement.")
    int crashAfter;
    @Option(names = "--config", description = "Fichier de propriétés client en plus (SASL/SSL...).")
    Path configFile;
    @Option(names = "-v", description = "Journaux du client Kafka (-v info, -vv debug).")
    boolean[] verbose = new boolean[0];

    public static void main(String... args) {
        System.exit(Plumbing.finish(Plumbing.commandLine(new ConsumerAtMostOnce()).execute(args)));
    }

    @Override
    public Integer call() throws Exception {
        Plumbing.logLevel(verbose);
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        // enable.auto.commit=false : on contrôle le commit nous-mêmes (c'est tout l'enjeu). Avec true, le client
        // Java validerait lui-même, dans poll() (toutes les 5 s par défaut) et dans close(), la position des messages
        // déjà rendus par poll() : un crash ferait relire (at-least-once), un close() après un lot à moitié traité
        // en perdrait la fin. librdkafka (le client Python) valide, lui, en tâche de fond, même en plein traitement
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // auto.offset.reset=earliest : sans offset validé pour ce groupe, on repart du début du topic
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        // session.timeout.ms=10000 : un consommateur mort sans prévenir (crash) est déclaré mort après 10 s
        // (défaut de Kafka : 45 s) ; ses partitions passent alors aux autres membres du groupe, ou à sa relance
        config.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10000);
        // group.instance.id (--instance-id, facultatif) : une identité stable ; relancé avec la même après un crash,
        // le consommateur reprend aussitôt ses partitions. Sans elle, deux consommateurs du groupe se partagent les partitions
        if (instanceId != null) config.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instanceId);
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        Plumbing.merge(config, configFile);
        Plumbing.requireBroker(config);
        int processed = 0;
        int committed = 0;
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config);
        Plumbing.onCtrlC(consumer::wakeup, "consommateur fermé proprement");
        IdleClock idle = new IdleClock(idleMs);
        consumer.subscribe(List.of(topic), idle);
        try {
            while (!Plumbing.stopping() && !idle.expired() && (max == 0 || processed < max)) {
                for (ConsumerRecord<String, String> msg : consumer.poll(Duration.ofMillis(200))) {
                    idle.touch();
                    TopicPartition partition = new TopicPartition(msg.topic(), msg.partition());
                    Map<TopicPartition, OffsetAndMetadata> next = Map.of(partition, new OffsetAndMetadata(msg.offset() + 1));
                    // --- AT MOST ONCE : COMMIT AVANT TRAITEMENT ---
                    // valide l'offset de ce message (=> le suivant sera délivré au prochain poll)
                    consumer.commitSync(next);
                    committed++;
                    if (processed + 1 == crashAfter) Plumbing.crash("après le commit de l'offset " + msg.offset() + ", avant son traitement");
                    // puis seulement on traite (si ça plante ici, le message est perdu)
                    System.out.printf("[%s p%d@%d] %s%n", msg.topic(), msg.partition(), msg.offset(), msg.value());
                    processed++;
                    if (max > 0 && processed >= max) break;
                }
            }
        } catch (WakeupException e) {
            // Ctrl-C : poll() a été réveillé, on ferme proprement
        } finally {
            consumer.close();
        }
        System.out.printf("--- Résumé (consommateur at-most-once) --- traités : %d, offsets validés : %d%n", processed, committed);
        // les valeurs que le client a vraiment utilisées (celles du cours, ou celles de --config)
        String settings = Plumbing.effective(config);
        System.out.println("réglages effectifs : " + settings);
        System.out.println("RESUME role=consumer semantic=at-most-once topic=" + topic + " group=" + group
                + " processed=" + processed + " committed=" + committed
                + " " + settings);
        return 0;
    }

    /**
     * Stops the loop after idleMs of silence, counted from the first partitions received: the time spent joining the
     * group doesn't count, nor waiting while a dead member still holds the partitions (until its session ends).
     */
    static final class IdleClock implements ConsumerRebalanceListener {
        private final long idleMs;
        private volatile long last = System.currentTimeMillis();
        private volatile boolean assigned;
        IdleClock(long idleMs) { this.idleMs = idleMs; }
        void touch() { last = System.currentTimeMillis(); }
        boolean expired() {
            long silence = System.currentTimeMillis() - last;
            if (!assigned && silence > Math.max(idleMs, 30_000)) {
                throw new IllegalStateException("aucune partition reçue après 30 s : le topic existe-t-il ? Un autre membre du groupe "
                        + "(vivant, ou mort depuis moins que son délai de session) les a-t-il toutes ?");
            }
            return assigned && silence > idleMs;
        }
        @Override public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (!partitions.isEmpty()) assigned = true;
            touch();
        }
        @Override public void onPartitionsRevoked(Collection<TopicPartition> partitions) { }
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
