///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS org.apache.kafka:kafka-clients:4.4.0
//DEPS org.postgresql:postgresql:42.7.14
//DEPS info.picocli:picocli:4.7.7
//DEPS org.slf4j:slf4j-simple:2.0.17
// EXERCICE : consommateur exactly-once vers PostgreSQL (docs/BASE.md). Complétez les 3 « TODO », dans l'ordre, puis faites-vous corriger :
//   ./jbang grade ConsumerDbExactlyOnce.java   (le correcteur le lance sous des pannes et explique ce qui cloche)
// Gardez le nom du fichier, les options et la sortie : c'est le contrat de docs/CONTRAT.md.

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
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * CONSOMMATEUR VERS UNE BASE DE DONNÉES, EXACTLY-ONCE : l'offset est stocké AVEC le résultat.
 *
 * Les transactions de Kafka ne peuvent pas inclure PostgreSQL : ce sont deux systèmes, sans transaction commune
 * (le client 4.4 n'a pas le commit en deux phases du KIP-939). La réponse de Kafka est dans la javadoc de
 * KafkaConsumer, section « Storing Offsets Outside Kafka » : on écrit le résultat ET l'offset suivant dans la
 * MÊME transaction de la base (table kafka_offsets), et à l'assignation d'une partition on se place (seek)
 * sur l'offset que la base a retenu. La base est la seule vérité : la ligne et l'offset sont validés ensemble
 * ou pas du tout. Le commit dans Kafka n'est plus qu'informatif (outils de suivi du retard, kafka-consumer-groups).
 * Un crash où que ce soit : 0 ligne perdue, 0 ligne en double.
 * Variante --idempotent : une table processed_ids (clé unique) reçoit l'identifiant du message dans la même
 * transaction que la ligne ; un message relu est reconnu et ignoré. Les offsets restent alors dans Kafka.
 * À observer : ./jbang db, puis --crash-after 5 --crash-point after-db-commit, relancez sans, et comptez.
 */
@Command(name = "ConsumerDbExactlyOnce", mixinStandardHelpOptions = true, version = "kafka-clients 4.4.0",
        description = "Consommateur vers PostgreSQL : la ligne et l'offset suivant dans la même transaction SQL, "
                + "seek sur l'offset de la base à l'assignation (ni perte ni doublon).")
public class ConsumerDbExactlyOnce implements Callable<Integer> {

    /** Où le crash simulé frappe, autour des deux validations (base et Kafka). */
    enum CrashPoint { BEFORE_DB_COMMIT, AFTER_DB_COMMIT, BEFORE_KAFKA_COMMIT, AFTER_KAFKA_COMMIT }

    @Option(names = {"-b", "--bootstrap-server"}, defaultValue = "${env:KAFKA_BOOTSTRAP_SERVERS:-localhost:9092}",
            description = "Adresse du broker (défaut : ${DEFAULT-VALUE}).")
    String bootstrap;
    @Option(names = {"-t", "--topic"}, defaultValue = "semantiques", description = "Topic lu (défaut : ${DEFAULT-VALUE}).")
    String topic;
    @Option(names = {"-g", "--group"}, defaultValue = "tp-db-exactly-once", description = "Groupe de consommateurs (défaut : ${DEFAULT-VALUE}).")
    String group;
    @Option(names = "--instance-id", description = "Identité stable dans le groupe (membre statique) : relancé avec la même, "
            + "le consommateur reprend aussitôt ses partitions.")
    String instanceId;
    @Option(names = "--idempotent", description = "Variante : identifiants traités (processed_ids, clé unique) dans la transaction, "
            + "offsets dans Kafka.")
    boolean idempotent;
    @Option(names = "--jdbc-url", defaultValue = "${env:KIT_JDBC_URL:-jdbc:postgresql://localhost:5432/postgres}",
            description = "Base PostgreSQL (défaut : ${DEFAULT-VALUE}, celle de ./jbang db).")
    String jdbcUrl;
    @Option(names = "--db-user", defaultValue = "postgres", description = "Utilisateur de la base (défaut : ${DEFAULT-VALUE}).")
    String dbUser;
    @Option(names = "--db-password", defaultValue = "${env:PGPASSWORD:-postgres}", description = "Mot de passe (défaut : $PGPASSWORD, sinon postgres).")
    String dbPassword;
    @Option(names = "--max", defaultValue = "0", description = "S'arrête après N messages traités (0 : pas de limite).")
    int max;
    @Option(names = "--idle-ms", defaultValue = "3000", description = "S'arrête après ce silence, en ms (défaut : ${DEFAULT-VALUE}).")
    long idleMs;
    @Option(names = "--crash-after", defaultValue = "0", description = "Crash brutal dans le lot qui contient le N-ième message, au point --crash-point.")
    int crashAfter;
    @Option(names = "--crash-point", description = "before-db-commit, after-db-commit, before-kafka-commit ou after-kafka-commit "
            + "(défaut : after-db-commit).", converter = CrashPointConverter.class)
    CrashPoint crashPoint = CrashPoint.AFTER_DB_COMMIT;
    @Option(names = "--config", description = "Fichier de propriétés client en plus (SASL/SSL...).")
    Path configFile;
    @Option(names = "-v", description = "Journaux du client Kafka (-v info, -vv debug).")
    boolean[] verbose = new boolean[0];

    private Connection db;
    private KafkaConsumer<String, String> consumer;

    public static void main(String... args) {
        System.exit(Plumbing.finish(Plumbing.commandLine(new ConsumerDbExactlyOnce()).execute(args)));
    }

    @Override
    public Integer call() throws Exception {
        Plumbing.logLevel(verbose);
        String semantic = idempotent ? "exactly-once-db-idempotent" : "exactly-once-db";
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        // enable.auto.commit=false : Kafka ne valide rien en tâche de fond ; la vérité des offsets est dans la base
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // auto.offset.reset=earliest : sans offset (ni en base ni dans Kafka), on repart du début du topic
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        // session.timeout.ms=10000 : un consommateur mort sans prévenir (crash) est déclaré mort après 10 s
        config.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10000);
        if (instanceId != null) config.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instanceId);
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        Plumbing.merge(config, configFile);
        Plumbing.requireBroker(config);
        // la base : joignable, et les tables créées si elles manquent (autocommit désactivé : une transaction par lot)
        db = Database.connect(jdbcUrl, dbUser, dbPassword);
        Database.ensure(db, "kafka_rows", Database.ROWS);
        Database.ensure(db, idempotent ? "processed_ids" : "kafka_offsets", idempotent ? Database.PROCESSED : Database.OFFSETS);
        int processed = 0;
        int skipped = 0;
        int batches = 0;
        consumer = new KafkaConsumer<>(config);
        Plumbing.onCtrlC(consumer::wakeup, "consommateur fermé proprement");
        IdleClock idle = new IdleClock(idleMs);
        consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
            // à l'assignation : se placer là où la BASE dit que l'on en est (pas là où Kafka le dit)
            @Override public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                idle.onPartitionsAssigned(partitions);
                // TODO 1 : à l'assignation, se placer (seek) sur l'offset que la BASE a retenu, pas sur celui de Kafka : seekToStoredOffsets
            }
            // à la révocation : rien à valider, chaque lot validé en base porte déjà ses offsets ; un lot en cours
            // n'existe pas ici (poll() n'appelle ce rappel qu'entre deux lots, dans ce même fil)
            @Override public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                idle.onPartitionsRevoked(partitions);
            }
        });
        try {
            while (!Plumbing.stopping() && !idle.expired() && (max == 0 || processed < max)) {
                var records = consumer.poll(Duration.ofMillis(200));
                if (records.isEmpty()) continue;
                idle.touch();
                List<ConsumerRecord<String, String>> batch = new java.util.ArrayList<>();
                for (ConsumerRecord<String, String> msg : records) {
                    if (max > 0 && processed + batch.size() >= max) break;
                    batch.add(msg);
                }
                boolean crashHere = crashAfter > 0 && processed < crashAfter && processed + batch.size() >= crashAfter;
                Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
                List<ConsumerRecord<String, String>> written = new java.util.ArrayList<>();
                try {
                    // --- EXACTLY ONCE : UNE SEULE TRANSACTION SQL POUR LES LIGNES ET LES OFFSETS ---
                    for (ConsumerRecord<String, String> msg : batch) {
                        if (!idempotent || firstTime(msg)) {
                            write(msg);
                            written.add(msg);
                        }
                        next.put(new TopicPartition(msg.topic(), msg.partition()), new OffsetAndMetadata(msg.offset() + 1));
                    }
                    // TODO 2 : écrire l'offset suivant de chaque partition (storeOffsets) DANS la transaction SQL des lignes
                    // un crash ici : rien n'est validé, PostgreSQL annule tout le lot (lignes ET offsets)
                    crashIf(crashHere, CrashPoint.BEFORE_DB_COMMIT, batch);
                    // TODO 3 : valider la transaction SQL : les lignes et les offsets ensemble, ou rien
                } catch (SQLException e) {
                    // la base ne répond plus (redémarrée ?) : ce lot n'est PAS écrit ; on se reconnecte et on
                    // reprend aux offsets que la base a retenus (si le COMMIT est passé sans réponse, ils le disent)
                    Database.quietRollback(db);
                    reconnect(e);
                    if (idempotent) seekToCommitted(consumer.assignment()); else seekToStoredOffsets(consumer.assignment());
                    idle.touch();
                    continue;
                }
                batches++;
                for (ConsumerRecord<String, String> msg : written) {
                    System.out.printf("[%s p%d@%d] %s%n", msg.topic(), msg.partition(), msg.offset(), msg.value());
                }
                processed += written.size();
                skipped += batch.size() - written.size();
                // un crash ici : lignes et offsets sont en base ; Kafka est en retard, mais le seek à l'assignation corrige
                crashIf(crashHere, CrashPoint.AFTER_DB_COMMIT, batch);
                crashIf(crashHere, CrashPoint.BEFORE_KAFKA_COMMIT, batch);
                // le commit Kafka : informatif (suivi du retard) ; la variante --idempotent, elle, s'en sert pour reprendre
                if (idempotent) consumer.commitSync(next); else consumer.commitAsync(next, null);
                crashIf(crashHere, CrashPoint.AFTER_KAFKA_COMMIT, batch);
            }
        } catch (WakeupException e) {
            // Ctrl-C : poll() a été réveillé, on ferme proprement
        } finally {
            consumer.close();
            Database.quietClose(db);
        }
        System.out.printf("--- Résumé (consommateur vers la base, %s) --- lignes écrites : %d, déjà traités ignorés : %d, transactions : %d%n",
                semantic, processed, skipped, batches);
        String settings = Plumbing.effective(config);
        System.out.println("réglages effectifs : " + settings);
        System.out.println("RESUME role=consumer semantic=" + semantic + " topic=" + topic + " group=" + group
                + " processed=" + processed + " committed=" + processed + " skipped=" + skipped + " " + settings);
        return 0;
    }

    /** Pour chaque partition reçue : l'offset suivant retenu par la base, ou le début du topic si elle n'en a pas. */
    void seekToStoredOffsets(Collection<TopicPartition> partitions) {
        try (PreparedStatement read = db.prepareStatement(
                "SELECT next_offset FROM kafka_offsets WHERE group_id = ? AND topic = ? AND kafka_partition = ?")) {
            for (TopicPartition p : partitions) {
                read.setString(1, group);
                read.setString(2, p.topic());
                read.setInt(3, p.partition());
                try (ResultSet rs = read.executeQuery()) {
                    if (rs.next()) {
                        consumer.seek(p, rs.getLong(1));
                        System.out.println("Assignation : " + p + " reprend à l'offset " + rs.getLong(1) + " (lu dans kafka_offsets).");
                    } else {
                        consumer.seekToBeginning(List.of(p));
                        System.out.println("Assignation : " + p + " n'a pas d'offset en base, lecture depuis le début.");
                    }
                }
            }
            db.commit();
        } catch (SQLException e) {
            throw new IllegalStateException("lecture des offsets en base impossible (" + e.getMessage() + ").");
        }
    }

    /** Variante --idempotent : on reprend aux offsets validés dans Kafka (les doublons éventuels seront reconnus). */
    void seekToCommitted(java.util.Set<TopicPartition> partitions) {
        Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(partitions);
        for (TopicPartition p : partitions) {
            OffsetAndMetadata o = committed.get(p);
            if (o != null) consumer.seek(p, o.offset()); else consumer.seekToBeginning(List.of(p));
        }
    }

    /** L'offset suivant de chaque partition, écrit (ou remplacé) dans la même transaction que les lignes. */
    void storeOffsets(Map<TopicPartition, OffsetAndMetadata> next) throws SQLException {
        try (PreparedStatement upsert = db.prepareStatement("INSERT INTO kafka_offsets (group_id, topic, kafka_partition, next_offset)"
                + " VALUES (?, ?, ?, ?) ON CONFLICT (group_id, topic, kafka_partition) DO UPDATE SET next_offset = EXCLUDED.next_offset")) {
            for (var e : next.entrySet()) {
                upsert.setString(1, group);
                upsert.setString(2, e.getKey().topic());
                upsert.setInt(3, e.getKey().partition());
                upsert.setLong(4, e.getValue().offset());
                upsert.executeUpdate();
            }
        }
    }

    /** Variante --idempotent : vrai si l'identifiant (la valeur, unique par message) n'avait jamais été vu. */
    boolean firstTime(ConsumerRecord<String, String> msg) throws SQLException {
        try (PreparedStatement seen = db.prepareStatement("INSERT INTO processed_ids (id) VALUES (?) ON CONFLICT (id) DO NOTHING")) {
            seen.setString(1, msg.value());
            return seen.executeUpdate() == 1;
        }
    }

    /** Une ligne par message : le topic, la partition, l'offset et la valeur (unique par message, docs/CONTRAT.md). */
    void write(ConsumerRecord<String, String> msg) throws SQLException {
        try (PreparedStatement insert = db.prepareStatement(
                "INSERT INTO kafka_rows (topic, kafka_partition, kafka_offset, value) VALUES (?, ?, ?, ?)")) {
            insert.setString(1, msg.topic());
            insert.setInt(2, msg.partition());
            insert.setLong(3, msg.offset());
            insert.setString(4, msg.value());
            insert.executeUpdate();
        }
    }

    /** La base est tombée : on réessaie 30 s, puis on s'arrête (exit 1) ; rien n'a été écrit deux fois. */
    void reconnect(SQLException cause) {
        System.out.println("La base ne répond plus (" + cause.getMessage() + ") : le lot en cours n'est pas écrit, reconnexion...");
        Database.quietClose(db);
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            try {
                db = Database.connect(jdbcUrl, dbUser, dbPassword);
                System.out.println("Reconnecté à la base : reprise aux offsets qu'elle a retenus.");
                return;
            } catch (IllegalStateException e) {
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("la base ne répond plus depuis 30 s, arrêt (aucune ligne écrite deux fois). " + e.getMessage());
                }
                try {
                    Thread.sleep(500);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    void crashIf(boolean here, CrashPoint point, List<ConsumerRecord<String, String>> batch) {
        if (here && point == crashPoint) {
            Plumbing.crash(point.name().toLowerCase().replace('_', '-') + " (lot de " + batch.size() + " message(s), jusqu'à l'offset "
                    + batch.get(batch.size() - 1).offset() + ")");
        }
    }

    /** --crash-point before-db-commit → CrashPoint.BEFORE_DB_COMMIT. */
    static final class CrashPointConverter implements CommandLine.ITypeConverter<CrashPoint> {
        @Override public CrashPoint convert(String value) {
            try {
                return CrashPoint.valueOf(value.strip().toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException("« " + value
                        + " » : before-db-commit, after-db-commit, before-kafka-commit ou after-kafka-commit attendu");
            }
        }
    }

    // ---- base de données (le même bloc dans les scripts de scripts/db/) ------------------------------

    /** Connection, French errors and the tables: the same in every script of scripts/db/ (ScriptPlumbingTest). */
    static final class Database {
        static final String ROWS = "CREATE TABLE kafka_rows (id BIGSERIAL PRIMARY KEY, topic TEXT NOT NULL, kafka_partition INT NOT NULL,"
                + " kafka_offset BIGINT NOT NULL, value TEXT NOT NULL, written_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())";
        static final String OFFSETS = "CREATE TABLE kafka_offsets (group_id TEXT NOT NULL, topic TEXT NOT NULL, kafka_partition INT NOT NULL,"
                + " next_offset BIGINT NOT NULL, PRIMARY KEY (group_id, topic, kafka_partition))";
        static final String PROCESSED = "CREATE TABLE processed_ids (id TEXT PRIMARY KEY)";

        /** Opens a connection in seconds, or says in French what is wrong (no database, password, database name). */
        static java.sql.Connection connect(String url, String user, String password) {
            java.util.Properties p = new java.util.Properties();
            p.setProperty("user", user);
            p.setProperty("password", password);
            p.setProperty("connectTimeout", "3");
            p.setProperty("loginTimeout", "5");
            try {
                java.sql.Connection c = java.sql.DriverManager.getConnection(url, p);
                c.setAutoCommit(false);
                return c;
            } catch (java.sql.SQLException e) {
                String state = String.valueOf(e.getSQLState());
                if (state.equals("28P01") || state.equals("28000")) {
                    throw new IllegalStateException("PostgreSQL refuse l'utilisateur « " + user + " » avec ce mot de passe sur " + url
                            + " : vérifiez --db-user et --db-password.");
                }
                if (state.equals("3D000")) throw new IllegalStateException("la base de " + url + " n'existe pas (" + e.getMessage() + ").");
                throw new IllegalStateException("aucune base PostgreSQL joignable sur " + url + " (" + e.getMessage()
                        + "). Démarrez-en une : ./jbang db (ou docker compose up -d postgres).");
            }
        }

        /** Creates the table if missing (and says so); an existing table must have the expected columns. */
        static void ensure(java.sql.Connection c, String table, String create) throws java.sql.SQLException {
            // the column names: the first word of each definition, up to a table-level PRIMARY KEY (...)
            String columns = create.substring(create.indexOf('(') + 1).split(", PRIMARY KEY \\(")[0];
            List<String> expected = java.util.Arrays.stream(columns.split(",")).map(s -> s.strip().split(" ")[0]).toList();
            List<String> found = new java.util.ArrayList<>();
            try (var st = c.prepareStatement("SELECT column_name FROM information_schema.columns"
                    + " WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position")) {
                st.setString(1, table);
                try (var rs = st.executeQuery()) {
                    while (rs.next()) found.add(rs.getString(1));
                }
            }
            if (found.isEmpty()) {
                try (var st = c.createStatement()) {
                    st.execute(create);
                }
                c.commit();
                System.out.println("Table " + table + " créée (elle n'existait pas) : " + create.substring(create.indexOf('(')));
            } else if (!found.containsAll(expected)) {
                throw new IllegalStateException("la table " + table + " existe déjà avec d'autres colonnes (" + String.join(", ", found)
                        + ") ; ce script attend " + String.join(", ", expected) + ". Supprimez-la (DROP TABLE " + table
                        + ") ou utilisez une autre base.");
            }
        }

        static void quietRollback(java.sql.Connection c) {
            try {
                c.rollback();
            } catch (java.sql.SQLException ignored) {
            }
        }

        static void quietClose(java.sql.Connection c) {
            try {
                c.close();
            } catch (java.sql.SQLException ignored) {
            }
        }
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
