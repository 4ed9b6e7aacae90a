///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS org.apache.kafka:kafka-clients:4.4.0
//DEPS info.picocli:picocli:4.7.7
//DEPS org.slf4j:slf4j-simple:2.0.17

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.ApplicationRecoverableException;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TransactionAbortableException;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * PRODUCTEUR EXACTLY-ONCE : « exactement une fois », avec idempotence et transactions.
 *
 * Garantie : ni perte ni doublon, pendant une session du producteur. Les nouveaux essais sont dédoublonnés
 * par le broker (idempotence : chaque lot porte un numéro de séquence), et chaque transaction est atomique :
 * tout le lot devient visible (commitTransaction) ou rien (abortTransaction, ou crash au milieu).
 * Ce qui peut mal tourner : un consommateur en read_uncommitted voit quand même les lots avortés ;
 * il faut isolation.level=read_committed côté lecture, qui s'arrête au dernier offset stable (LSO) : une
 * transaction restée ouverte (crash sans relance) y retient toute la partition jusqu'à son abandon
 * (transaction.timeout.ms, 10 s ici). Et l'exactly-once s'arrête où s'arrête la position : relancé,
 * ce producteur ne sait pas quelles transactions ont été validées avant le crash ; reparti du début, il
 * renvoie, et ces doublons-là sont visibles en read_committed. Le remède : tenir la position de la
 * source dans la transaction (le copieur consume-transform-produce de ConsumerExactlyOnce), ou
 * dédoublonner en aval par identifiant de message (DedupConsumer).
 * À observer : avec --abort-every 2, une transaction sur deux est avortée et reste invisible en
 * read_committed ; avec --crash-after 7, relancez : initTransactions() écarte l'ancienne instance et
 * avorte sa transaction restée ouverte ; avec --crash-after-commit 1 puis une relance avec le même
 * --run-id, le premier lot est lu deux fois (./jbang tour --scenario producer-exactly-once-relaunch).
 */
@Command(name = "ProducerExactlyOnce", mixinStandardHelpOptions = true, version = "kafka-clients 4.4.0",
        description = "Producteur exactly-once : idempotence + transactions (init/begin/commit/abort).")
public class ProducerExactlyOnce implements Callable<Integer> {

    @Option(names = {"-b", "--bootstrap-server"}, defaultValue = "${env:KAFKA_BOOTSTRAP_SERVERS:-localhost:9092}",
            description = "Adresse du broker (défaut : ${DEFAULT-VALUE}).")
    String bootstrap;
    @Option(names = {"-t", "--topic"}, defaultValue = "semantiques", description = "Topic écrit (défaut : ${DEFAULT-VALUE}).")
    String topic;
    @Option(names = {"-n", "--count"}, defaultValue = "10", description = "Nombre de messages (défaut : ${DEFAULT-VALUE}).")
    int count;
    @Option(names = "--transaction-size", defaultValue = "5", description = "Messages par transaction (défaut : ${DEFAULT-VALUE}).")
    int transactionSize;
    @Option(names = "--abort-every", defaultValue = "0", description = "Avorte une transaction sur K (0 : jamais).")
    int abortEvery;
    @Option(names = "--transactional-id", defaultValue = "tx-producteur-semantiques",
            description = "Identifiant transactionnel, unique et stable (défaut : ${DEFAULT-VALUE}).")
    String transactionalId;
    @Option(names = "--interval-ms", defaultValue = "0", description = "Pause entre deux envois, en ms (défaut : ${DEFAULT-VALUE}).")
    long intervalMs;
    @Option(names = "--run-id", description = "Préfixe des valeurs (défaut : aléatoire).")
    String runId = randomRunId();
    @Option(names = "--crash-after", defaultValue = "0", description = "Crash brutal au milieu d'une transaction, après le N-ième message.")
    int crashAfter;
    @Option(names = "--crash-after-commit", defaultValue = "0",
            description = "Crash brutal juste après la validation (commitTransaction) de la T-ième transaction (0 : jamais).")
    int crashAfterCommit;
    @Option(names = "--config", description = "Fichier de propriétés client en plus (SASL/SSL...).")
    Path configFile;
    @Option(names = "-v", description = "Journaux du client Kafka (-v info, -vv debug).")
    boolean[] verbose = new boolean[0];

    public static void main(String... args) {
        System.exit(Plumbing.finish(Plumbing.commandLine(new ProducerExactlyOnce()).execute(args)));
    }

    @Override
    public Integer call() throws Exception {
        if (transactionSize < 1) throw new CommandLine.ParameterException(new CommandLine(this), "--transaction-size doit être ≥ 1");
        Plumbing.logLevel(verbose);
        Properties config = new Properties();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        // acks=all : le leader attend les réplicas synchronisés (ISR) ; durable avec 3 réplicas et
        // min.insync.replicas=2 (le lab à 1 nœud n'a qu'une copie : acks=all y vaut acks=1)
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        // enable.idempotence=true : requis pour l'exactly-once ; le broker écarte les nouveaux essais déjà écrits
        // (numéros de séquence), et l'ordre tient même avec plusieurs requêtes en vol
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        // retries très élevé + idempotence + acks=all = tolérance aux pannes sans doublons,
        // jusqu'à expiration de delivery.timeout.ms : c'est ce délai qui borne les essais
        config.put(ProducerConfig.RETRIES_CONFIG, Integer.MAX_VALUE);
        // linger.ms=5 : délai d'attente (côté producteur) avant d'envoyer un lot
        config.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        // transactional.id : identifiant unique et stable par producteur → atomicité, et reprise après
        // crash sans doublons visibles (le suivant qui le reprend isole l'ancien)
        config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        // transaction.timeout.ms : si ce processus meurt en pleine transaction et n'est pas relancé, le
        // coordinateur l'avorte au bout de ce délai ; jusque-là, les lecteurs read_committed attendent
        // derrière elle (défaut de Kafka : 60 s)
        config.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 10000);
        config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 3000);
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 15000);
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10000);
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        Plumbing.merge(config, configFile);
        Plumbing.requireBroker(config);

        List<Integer> acked = new ArrayList<>();
        List<Integer> aborted = new ArrayList<>();
        int sent = 0;
        KafkaProducer<String, String> producer = new KafkaProducer<>(config);
        Plumbing.onCtrlC(() -> { }, "la transaction en cours a été avortée");
        try {
            // 1) appelé une fois au début : écarte toute instance précédente (même transactional.id : son époque
            //    est dépassée), termine la transaction qu'elle avait laissée : validée si son commit était déjà
            //    demandé, avortée si elle était encore ouverte
            producer.initTransactions();
            int seq = 1;
            for (int transaction = 1; seq <= count && !Plumbing.stopping(); transaction++) {
                List<Integer> batch = new ArrayList<>();
                for (; batch.size() < transactionSize && seq <= count; seq++) batch.add(seq);
                boolean abort = abortEvery > 0 && transaction % abortEvery == 0;
                for (int attempt = 1; ; attempt++) {
                    try {
                        if (sendTransaction(producer, transaction, batch, abort)) {
                            (abort ? aborted : acked).addAll(batch);
                        } else {
                            aborted.addAll(batch); // Ctrl-C au milieu du lot : il a été avorté
                        }
                        sent += batch.size();
                        break;
                    } catch (KafkaException e) {
                        if (Transactions.decide(e, false) == Transactions.Action.STOP) {
                            // écarté (un autre producteur a pris notre transactional.id) ou fatal (droits, version du
                            // broker) : abortTransaction() échouerait ; on ferme (finally) et on s'arrête, et l'étudiant
                            // lit « Erreur : le producteur s'arrête… » avec le code 1. Un service de longue durée
                            // recréerait le producteur et rappellerait initTransactions()
                            throw new IllegalStateException("le producteur s'arrête, " + Transactions.why(e));
                        }
                        // avortable (nouveaux essais épuisés, séquence rompue, broker qui redémarre…) : on avorte et on recommence
                        // le même lot dans une nouvelle transaction ; rien de l'essai avorté n'est visible en read_committed
                        try {
                            producer.abortTransaction();
                        } catch (KafkaException abortFailed) {
                            throw new IllegalStateException("l'avortement a échoué, le producteur s'arrête, " + Transactions.why(abortFailed));
                        }
                        System.out.println("transaction " + transaction + " avortée après une erreur (" + Transactions.why(e) + ")"
                                + (attempt < 5 ? ", on recommence le lot" : ""));
                        if (attempt == 5) {
                            // exactly-once ne laisse pas de trou : plutôt que de passer au lot suivant sans celui-ci, on
                            // s'arrête ; l'étudiant lit « Erreur : la transaction … a échoué 5 fois… », code 1
                            throw new IllegalStateException("la transaction " + transaction + " a échoué 5 fois : le producteur "
                                    + "s'arrête là, sans passer au lot suivant (exactly-once ne laisse pas de trou) ; messages "
                                    + runId + "-" + batch.get(0) + " à " + runId + "-" + batch.get(batch.size() - 1) + " jamais validés");
                        }
                    }
                }
            }
        } finally {
            producer.close();
        }
        System.out.printf("--- Résumé (producteur exactly-once) --- envoyés : %d, validés : %d, avortés : %d%n",
                sent, acked.size(), aborted.size());
        // les valeurs que le client a vraiment utilisées (celles du cours, ou celles de --config)
        String settings = Plumbing.effective(config);
        System.out.println("réglages effectifs : " + settings);
        System.out.println("RESUME role=producer semantic=exactly-once topic=" + topic + " run=" + runId + " sent=" + sent
                // failed : toujours 0, un lot qui échoue arrête le producteur (voir plus haut)
                + " acked=" + acked.size() + " failed=0 failedSeqs= abortedSeqs=" + Plumbing.join(aborted)
                + " " + settings);
        return 0;
    }

    /**
     * One transaction for {@code batch}: begin, send, then commit, or abort when asked to (or on Ctrl-C).
     * Returns false if it was aborted by Ctrl-C.
     */
    boolean sendTransaction(KafkaProducer<String, String> producer, int transaction, List<Integer> batch, boolean abort)
            throws InterruptedException {
        // 2) une transaction par lot de --transaction-size messages
        producer.beginTransaction();
        for (int seq : batch) {
            if (Plumbing.stopping()) break; // Ctrl-C : pas de message suivant, le lot sera avorté
            String value = runId + "-" + seq;
            producer.send(new ProducerRecord<>(topic, value, value));
            System.out.println("envoyé (transaction " + transaction + ") : " + value);
            if (seq == crashAfter) {
                producer.flush(); // les messages sont dans le log, mais la transaction reste ouverte
                Plumbing.crash("au milieu de la transaction " + transaction + ", après " + value);
            }
            if (intervalMs > 0) Thread.sleep(intervalMs);
        }
        if (Plumbing.stopping() || abort) {
            // 3b) abortTransaction : rien du lot ne sera visible en read_committed.
            // flush() d'abord, pour la démonstration : les messages sont bien écrits dans le log
            // (visibles en read_uncommitted), puis marqués avortés
            producer.flush();
            producer.abortTransaction();
            System.out.println("transaction " + transaction + " AVORTÉE : " + batch.size() + " messages invisibles en read_committed");
            return !Plumbing.stopping();
        }
        // 3a) commitTransaction : tout le lot devient visible d'un coup ; s'il expire, la validation est peut-être en
        // cours : le contrat de Kafka est de le rappeler (Transactions.commit, plus bas)
        Transactions.commit(producer);
        System.out.println("transaction " + transaction + " validée : " + batch.size() + " messages");
        // un crash ici : le lot est validé, mais une relance partie du début ne le sait pas et le renverra
        if (transaction == crashAfterCommit) Plumbing.crash("juste après la validation de la transaction " + transaction);
        return true;
    }

    // ---- erreurs des transactions (KIP-1050) : ce bloc est le même dans chaque fichier exactly-once ----------

    /**
     * What to do when a transactional call throws, by Kafka's categories (KIP-1050, kafka-clients 4.4). The same class,
     * word for word, in ProducerExactlyOnce, ConsumerExactlyOnce, ZombieFencing and notebooks/shared.jsh.
     */
    static final class Transactions {
        enum Action {
            /** commitTransaction a expiré : la validation est peut-être en cours, on la rappelle. */
            RETRY,
            /** erreur avortable : abortTransaction(), puis on recommence le lot (ou on le relit). */
            ABORT,
            /** écarté ou fatal : on ferme le producteur et on s'arrête, SANS abortTransaction() (il échouerait). */
            STOP
        }

        /**
         * The category of {@code error}, read along its cause chain: a producer already in an error state throws a
         * KafkaException whose cause is the real error. {@code committing}: thrown by commitTransaction.
         */
        static Action decide(Throwable error, boolean committing) {
            // un délai dépassé sur commitTransaction : le contrat de Kafka est de la rappeler (un abort, là, échouerait)
            if (committing && error instanceof TimeoutException) return Action.RETRY;
            for (Throwable t = error; t != null; t = t.getCause()) {
                // écarté : une autre instance a pris notre transactional.id (ProducerFenced, InvalidProducerEpoch) ou
                // notre group.instance.id (FencedInstanceId) ; à nous de nous arrêter (un service relancerait tout)
                if (t instanceof ApplicationRecoverableException) return Action.STOP;
                // configuration : droits refusés, broker trop ancien ; un nouvel essai n'y changerait rien
                if (t instanceof InvalidConfigurationException) return Action.STOP;
                // le coordinateur a refusé notre transaction : le producteur est dans un état fatal
                if (t instanceof InvalidTxnStateException) return Action.STOP;
                // avortable : le producteur le sait lui-même (nouveaux essais épuisés, séquence rompue qu'il remet à zéro…)
                if (t instanceof TransactionAbortableException) return Action.ABORT;
            }
            // toute autre erreur de Kafka (OutOfOrderSequence, délai dépassé ailleurs que sur le commit…) : avortable
            return error instanceof KafkaException ? Action.ABORT : Action.STOP;
        }

        /** commitTransaction, called again when it times out; after 5 tries, stops without abortTransaction. */
        static void commit(Producer<?, ?> producer) {
            for (int attempt = 1; ; attempt++) {
                try {
                    producer.commitTransaction();
                    return;
                } catch (KafkaException e) {
                    if (decide(e, true) != Action.RETRY) throw e;
                    if (attempt == 5) {
                        throw new IllegalStateException("commitTransaction a expiré 5 fois, on s'arrête sans avorter : le coordinateur "
                                + "termine seul la transaction (validée s'il a enregistré la demande, sinon avortée au bout de "
                                + "transaction.timeout.ms)");
                    }
                    System.out.println("commitTransaction a expiré, nouvel essai (" + attempt + ")");
                }
            }
        }

        /** The real error (the first ApiException along the cause chain), in French for a fencing or a configuration error. */
        static String why(Throwable error) {
            Throwable t = error;
            while (t.getCause() != null && !(t instanceof ApiException)) t = t.getCause();
            String cause = t.getClass().getSimpleName() + " : " + t.getMessage();
            return t instanceof ApplicationRecoverableException ? "une autre instance a pris notre place, nous sommes le zombie (" + cause + ")"
                    : t instanceof InvalidConfigurationException ? "le broker refuse notre configuration : droits, version, nom de topic… ("
                    + cause + ")" : cause;
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
