///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS org.apache.kafka:kafka-clients:4.4.0
//DEPS info.picocli:picocli:4.7.7
//DEPS org.slf4j:slf4j-simple:2.0.17

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicIdPartition;
import org.apache.kafka.common.config.ConfigResource;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * CONSOMMATEUR DE FILE (share group, KIP-932, Kafka 4.2+) : chaque message est acquis, puis acquitté un par un.
 *
 * Un groupe de partage n'assigne pas les partitions à un seul membre : tous les membres lisent la même
 * partition, et le broker prête chaque message à un seul d'entre eux, sous un verrou à durée limitée
 * (share.record.lock.duration.ms). Le consommateur répond pour chaque message : ACCEPT (traité, fini),
 * RELEASE (à relivrer), REJECT (jamais plus). Un message qui n'est pas acquitté avant la fin du verrou
 * (consommateur mort, ou trop lent) est relivré, à ce membre ou à un autre, avec un compteur de livraisons
 * augmenté ; au bout de share.delivery.count.limit livraisons (5 par défaut), il est archivé : plus jamais livré.
 * Garantie : at-least-once par message, avec un nombre d'essais borné (un message qui échoue à chaque fois
 * finit archivé, donc perdu pour le traitement) ; aucun ordre entre les lots, aucune transaction.
 * À observer : --crash-after 3 sur un lecteur, un second lecteur lancé à côté reçoit les messages du lot
 * non acquitté, « livraison 2 », une fois le verrou expiré : un effet en double, jamais une perte.
 */
@Command(name = "ShareConsumer", mixinStandardHelpOptions = true, version = "kafka-clients 4.4.0",
        description = "Consommateur de file (share group) : acquittement explicite de chaque message (ACCEPT, RELEASE, REJECT).")
public class ShareConsumer implements Callable<Integer> {

    @Option(names = {"-b", "--bootstrap-server"}, defaultValue = "${env:KAFKA_BOOTSTRAP_SERVERS:-localhost:9092}",
            description = "Adresse du broker (défaut : ${DEFAULT-VALUE}).")
    String bootstrap;
    @Option(names = {"-t", "--topic"}, defaultValue = "semantiques", description = "Topic lu (défaut : ${DEFAULT-VALUE}).")
    String topic;
    @Option(names = {"-g", "--group"}, defaultValue = "file-partagee", description = "Groupe de partage (défaut : ${DEFAULT-VALUE}).")
    String group;
    @Option(names = "--max", defaultValue = "0", description = "S'arrête après N messages acceptés (0 : pas de limite).")
    int max;
    @Option(names = "--idle-ms", defaultValue = "3000", description = "S'arrête après ce silence, en ms, une fois un premier message reçu (défaut : ${DEFAULT-VALUE}).")
    long idleMs;
    @Option(names = "--crash-after", defaultValue = "0", description = "Crash brutal sur le N-ième message reçu : après son traitement, avant son acquittement.")
    int crashAfter;
    @Option(names = "--reject-if", description = "Rejette (REJECT) les messages dont la valeur contient ce texte : un message « empoisonné », jamais relivré.")
    String rejectIf;
    @Option(names = "--fail-if", description = "Le traitement des messages dont la valeur contient ce texte échoue à chaque fois : ils sont rendus (RELEASE) et relivrés, jusqu'à la limite de livraisons.")
    String failIf;
    @Option(names = "--release-every", defaultValue = "0", description = "Rend (RELEASE) un message sur K à sa première livraison, pour le voir revenir (0 : jamais).")
    int releaseEvery;
    @Option(names = "--slow-ms", defaultValue = "0", description = "Durée du traitement de chaque message, en ms : plus long que le verrou, le message est relivré ailleurs.")
    long slowMs;
    @Option(names = "--implicit", description = "Mode implicite (le défaut de Kafka) : aucun acknowledge, le poll suivant accepte d'office "
            + "tout le lot précédent, même un message dont le traitement a échoué.")
    boolean implicit;
    @Option(names = "--offset-reset", defaultValue = "earliest", description = "Où commence un groupe de partage neuf : earliest ou latest "
            + "(share.auto.offset.reset, réglage du GROUPE, posé par l'API Admin ; défaut de Kafka : latest ; ici : ${DEFAULT-VALUE}).")
    String offsetReset;
    @Option(names = "--lock-ms", description = "Durée du verrou d'acquisition, en ms (share.record.lock.duration.ms, réglage du groupe ; défaut du broker : 30 s).")
    Integer lockMs;
    @Option(names = "--delivery-limit", description = "Livraisons au plus d'un message avant son archivage (share.delivery.count.limit, réglage du groupe ; défaut : 5).")
    Integer deliveryLimit;
    @Option(names = "--dead-letter-topic", description = "Topic des lettres mortes (KIP-1191, Kafka 4.4, share.version=2) : le broker y "
            + "écrit chaque message rejeté ou archivé à la limite de livraisons (errors.deadletterqueue.topic.name, réglage du groupe). "
            + "Son nom commence par « dlq. » (errors.deadletterqueue.topic.name.prefix du broker) ; il doit exister, avec le réglage "
            + "de topic errors.deadletterqueue.group.enable=true.")
    String deadLetterTopic;
    @Option(names = "--config", description = "Fichier de propriétés client en plus (SASL/SSL...).")
    Path configFile;
    @Option(names = "-v", description = "Journaux du client Kafka (-v info, -vv debug).")
    boolean[] verbose = new boolean[0];

    public static void main(String... args) {
        System.exit(Plumbing.finish(Plumbing.commandLine(new ShareConsumer()).execute(args)));
    }

    @Override
    public Integer call() throws Exception {
        if (!offsetReset.equals("earliest") && !offsetReset.equals("latest")) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--offset-reset vaut earliest ou latest (reçu : " + offsetReset + ")");
        }
        Plumbing.logLevel(verbose);
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        // group.id : le groupe de PARTAGE ; tous ses membres lisent les mêmes partitions, chaque message va à un seul
        config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        // share.acknowledgement.mode=explicit : chaque message reçu doit être acquitté par le programme (acknowledge),
        // avant le poll suivant ; en mode implicit (défaut), le poll suivant accepte d'office tout le lot précédent
        config.put(ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG, implicit ? "implicit" : "explicit");
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        Plumbing.merge(config, configFile);
        Plumbing.requireBroker(config);
        // les réglages d'un groupe de partage ne sont pas ceux du client : ils vivent sur le broker, posés par l'API Admin
        // (comme kafka-configs --entity-type groups) ; share.auto.offset.reset=latest par défaut : un groupe neuf
        // ne voit que les messages écrits APRÈS son arrivée, ceux déjà là sont sautés
        Map<String, String> groupConfig = new java.util.TreeMap<>();
        groupConfig.put("share.auto.offset.reset", offsetReset);
        if (lockMs != null) groupConfig.put("share.record.lock.duration.ms", String.valueOf(lockMs));
        if (deliveryLimit != null) groupConfig.put("share.delivery.count.limit", String.valueOf(deliveryLimit));
        if (deadLetterTopic != null) {
            // lettres mortes : le broker y écrit les messages rejetés ou archivés ; copy.record : le message lui-même,
            // pas seulement les en-têtes qui disent d'où il vient et pourquoi (défaut : false)
            groupConfig.put("errors.deadletterqueue.topic.name", deadLetterTopic);
            groupConfig.put("errors.deadletterqueue.copy.record.enable", "true");
        }
        setGroupConfig(config, groupConfig);

        int received = 0;
        int accepted = 0;
        int released = 0;
        int rejected = 0;
        int redelivered = 0;
        List<String> ackErrors = new ArrayList<>();
        long last = System.currentTimeMillis();
        boolean started = false;
        KafkaShareConsumer<String, String> consumer = new KafkaShareConsumer<>(config);
        Plumbing.onCtrlC(consumer::wakeup, "consommateur fermé proprement (ses messages non acquittés reviendront à la fin du verrou)");
        consumer.subscribe(List.of(topic));
        try {
            while (!Plumbing.stopping() && (max == 0 || accepted < max)) {
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
                if (records.isEmpty()) {
                    long silence = System.currentTimeMillis() - last;
                    if (started && silence > idleMs) break;
                    if (!started && silence > Math.max(idleMs, 10_000)) {
                        // rien à prendre : le groupe a déjà tout lu, ou, neuf en latest, il n'attend que les messages à venir
                        System.out.println("aucun message reçu en " + Math.max(idleMs, 10_000) / 1000 + " s pour le groupe « " + group
                                + " » (tout est déjà lu ? topic vide ? share.auto.offset.reset=latest ne livre que les messages écrits après)");
                        break;
                    }
                    continue;
                }
                started = true;
                for (ConsumerRecord<String, String> msg : records) {
                    received++;
                    // deliveryCount : combien de fois ce message a été prêté (1 à la première livraison)
                    short delivery = msg.deliveryCount().orElse((short) 1);
                    if (delivery > 1) redelivered++;
                    // --- 1) traitement ---
                    AcknowledgeType ack = AcknowledgeType.ACCEPT;
                    if (rejectIf != null && msg.value().contains(rejectIf)) {
                        ack = AcknowledgeType.REJECT;   // empoisonné : inutile de réessayer, jamais plus livré
                    } else if (failIf != null && msg.value().contains(failIf)) {
                        ack = AcknowledgeType.RELEASE;  // le traitement a échoué : qu'un autre essai le reprenne
                    } else if (releaseEvery > 0 && received % releaseEvery == 0 && delivery == 1) {
                        ack = AcknowledgeType.RELEASE;  // rendu sans être traité : il reviendra, livraison 2
                    }
                    if (slowMs > 0) Thread.sleep(slowMs);
                    // en mode implicite, le programme n'a pas de mot à dire : le lot entier sera accepté au poll suivant
                    if (implicit && ack != AcknowledgeType.ACCEPT) System.out.println("échec du traitement de " + msg.value()
                            + " : en mode implicite, impossible de le rendre ou de le rejeter, il sera accepté quand même");
                    if (implicit) ack = AcknowledgeType.ACCEPT;
                    System.out.printf("[%s p%d@%d] %s (livraison %d, %s)%n", msg.topic(), msg.partition(), msg.offset(), msg.value(),
                            delivery, ack.name());
                    if (received == crashAfter) {
                        Plumbing.crash("après le traitement de l'offset " + msg.offset() + ", avant son acquittement");
                    }
                    // --- 2) acquittement : ce message-là, et lui seul ---
                    if (!implicit) consumer.acknowledge(msg, ack);
                    if (ack == AcknowledgeType.ACCEPT) accepted++;
                    else if (ack == AcknowledgeType.RELEASE) released++;
                    else rejected++;
                }
                // --- 3) les acquittements partent au broker (sinon : au poll suivant) ; le résultat dit, par partition,
                // s'ils ont été pris en compte : un verrou déjà expiré fait échouer l'acquittement, le message est relivré
                for (Map.Entry<TopicIdPartition, Optional<KafkaException>> r : consumer.commitSync().entrySet()) {
                    r.getValue().ifPresent(e -> {
                        ackErrors.add(r.getKey().topicPartition() + ":" + e.getClass().getSimpleName());
                        // le client ne sait pas si le broker a appliqué l'acquittement (requête perdue, ou seulement sa réponse ?) :
                        // appliqué, rien ne revient ; sinon, ces messages reviennent à la fin de leur verrou (at-least-once)
                        System.out.println("acquittement sans confirmation sur " + r.getKey().topicPartition() + " (" + e.getMessage()
                                + ") : appliqué ou non par le broker, impossible de le savoir ; non appliqué, ces messages reviendront");
                    });
                }
                last = System.currentTimeMillis();
            }
        } catch (WakeupException e) {
            // Ctrl-C : poll() a été réveillé, on ferme proprement
        } finally {
            consumer.close();
        }
        System.out.printf("--- Résumé (consommateur de file) --- reçus : %d, acceptés : %d, rendus : %d, rejetés : %d, relivrés : %d, "
                + "acquittements sans confirmation : %d%n", received, accepted, released, rejected, redelivered, ackErrors.size());
        String settings = "share.acknowledgement.mode=" + config.get(ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG) + " "
                + groupConfig.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "));
        System.out.println("réglages effectifs : " + settings);
        System.out.println("RESUME role=consumer semantic=share-at-least-once topic=" + topic + " group=" + group
                + " received=" + received + " processed=" + accepted + " released=" + released + " rejected=" + rejected
                + " redelivered=" + redelivered + " ackErrors=" + String.join(",", ackErrors) + " " + settings);
        return 0;
    }

    /**
     * Sets the share group's own settings on the broker (they are not client settings), after checking that the cluster
     * has share groups at all: without them, Kafka's consumer fails in English at its first poll.
     */
    static void setGroupConfig(Properties clientConfig, Map<String, String> settings) throws Exception {
        Properties p = new Properties();
        p.putAll(clientConfig);
        p.keySet().removeIf(k -> !org.apache.kafka.clients.admin.AdminClientConfig.configNames().contains(k.toString()));
        try (Admin admin = Admin.create(p)) {
            var shareVersion = admin.describeFeatures().featureMetadata().get(10, TimeUnit.SECONDS).finalizedFeatures().get("share.version");
            if (shareVersion == null || shareVersion.maxVersionLevel() < 1) {
                throw new IllegalStateException("ce cluster n'a pas les groupes de partage (fonctionnalité share.version absente ou à 0). "
                        + "Activez-les (Kafka 4.2+, actifs d'office sur un cluster neuf) : "
                        + "kafka-features.sh --bootstrap-server " + clientConfig.get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG)
                        + " upgrade --feature share.version=1");
            }
            String deadLetters = settings.get("errors.deadletterqueue.topic.name");
            if (deadLetters != null) requireDeadLetterTopic(admin, deadLetters, shareVersion.maxVersionLevel(), clientConfig);
            List<AlterConfigOp> ops = settings.entrySet().stream()
                    .map(e -> new AlterConfigOp(new ConfigEntry(e.getKey(), e.getValue()), AlterConfigOp.OpType.SET)).toList();
            String group = clientConfig.getProperty(ConsumerConfig.GROUP_ID_CONFIG);
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, group), ops)).all().get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("le broker refuse les réglages du groupe de partage : " + e.getCause().getMessage());
        }
    }

    /**
     * The broker accepts any name for a group's dead-letter topic, then, at the first record to write there, logs its
     * refusal and archives the record anyway (« Failed to write to DLQ, proceeding to ARCHIVED regardless »): what it
     * needs is checked here first, in French.
     */
    static void requireDeadLetterTopic(Admin admin, String topic, short shareVersion, Properties clientConfig) throws Exception {
        String bootstrap = String.valueOf(clientConfig.get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG));
        if (shareVersion < 2) {
            throw new IllegalStateException("ce cluster n'a pas les lettres mortes des groupes de partage (share.version=" + shareVersion
                    + ", il faut 2 : Kafka 4.4+) : kafka-features.sh --bootstrap-server " + bootstrap + " upgrade --feature share.version=2");
        }
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        String enabled;
        try {
            ConfigEntry entry = admin.describeConfigs(List.of(resource)).all().get(10, TimeUnit.SECONDS).get(resource)
                    .get("errors.deadletterqueue.group.enable");
            enabled = entry == null ? null : entry.value();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("le topic de lettres mortes « " + topic + " » n'existe pas (le broker ne le crée pas d'office) : "
                    + "kafka-topics.sh --bootstrap-server " + bootstrap + " --create --topic " + topic
                    + " --config errors.deadletterqueue.group.enable=true");
        }
        if (!"true".equals(enabled)) {
            throw new IllegalStateException("le topic « " + topic + " » n'accepte pas les lettres mortes (errors.deadletterqueue.group.enable="
                    + enabled + ") : le broker archiverait les messages sans les y écrire. kafka-configs.sh --bootstrap-server " + bootstrap
                    + " --alter --entity-type topics --entity-name " + topic + " --add-config errors.deadletterqueue.group.enable=true");
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
