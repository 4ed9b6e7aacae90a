package kit.scenarios;

import kit.run.JBang;
import kit.run.Program;
import kit.run.Topics;
import kit.util.Errors;
import kit.util.Ports;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * lab-bounces: the lab as the teacher starts it ({@code ./jbang broker --faults --brokers 3}, in a JVM of its own) has
 * each node in turn hard-stopped then restarted through its control API, as {@code ./jbang fault stop-broker N} and
 * {@code start-broker N} do, while a producer writes acks=all all along; each cycle waits for the node to be back in
 * every ISR and for a reader to have seen every acknowledged record, and at the end everything is read again from the
 * start. Counts the cycles, the lab's deaths (its JVM gone: Kafka's fatal-fault handler halts the process) and the
 * acknowledged records lost.
 */
public final class LabBounces {

    /** What the campaign found; lost is -1 when no final re-read could be done. */
    public record Outcome(int cycles, int deaths, long acknowledged, long lost, long duplicated, List<String> problems) {
        public boolean passed() { return deaths == 0 && lost == 0 && problems.isEmpty(); }
    }

    static final String TOPIC = "lab-bounces";
    static final int PARTITIONS = 3;
    /** Three deaths in a row and the campaign stops: the lab can't be kept alive, no need to go on. */
    static final int MAX_DEATHS = 3;
    private static final Pattern READY_LOG = Pattern.compile("Journaux de Kafka : (.+)$");

    private final int cycles;
    private final Consumer<String> progress;
    private final Duration patience;

    /** @param patience how long a node may take to be back in every ISR, and the reader to catch up, before it is a problem */
    public LabBounces(int cycles, Duration patience, Consumer<String> progress) {
        this.cycles = cycles;
        this.patience = patience;
        this.progress = progress;
    }

    public Outcome run() {
        int done = 0;
        int deaths = 0;
        long acknowledged = 0;
        long lost = 0;
        long duplicated = 0;
        List<String> problems = new ArrayList<>();
        boolean verified = false;
        while (done < cycles && deaths < MAX_DEATHS) {
            try (Session s = Session.start(progress)) {
                while (done < cycles) {
                    int node = done % 3 + 1;
                    String problem = s.cycle(done + 1, cycles, node, patience);
                    done++;
                    if (!s.lab.isAlive()) break;
                    if (problem != null) {
                        problems.add("cycle " + done + " : " + problem);
                        progress.accept("✘ cycle " + done + " : " + problem);
                        if (problems.size() >= 3) break;
                    }
                }
                if (!s.lab.isAlive()) {
                    deaths++;
                    s.obituary().forEach(progress);
                    continue; // a new lab for the cycles left; what the dead one held is not counted
                }
                if (!problems.isEmpty()) s.keepLog();
                long[] check = s.verify();
                acknowledged += check[0];
                lost += check[1];
                duplicated += check[2];
                verified = true;
                if (problems.size() >= 3) break;
            } catch (RuntimeException e) {
                problems.add("le labo n'a pas pu être mené au bout : " + Errors.rootMessage(e));
                break;
            }
        }
        return new Outcome(done, deaths, acknowledged, verified ? lost : -1, duplicated, problems);
    }

    /** One lab JVM, its producer and its reader. */
    private static final class Session implements AutoCloseable {
        final Process lab;
        final String bootstrap;
        final String control;
        final Path logFile;
        final Deque<String> stderr;
        final Consumer<String> progress;
        final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        final Admin admin;
        final Writer writer;
        final Reader reader;

        private Session(Process lab, String bootstrap, String control, Path logFile, Deque<String> stderr, Consumer<String> progress) {
            this.lab = lab;
            this.bootstrap = bootstrap;
            this.control = control;
            this.logFile = logFile;
            this.stderr = stderr;
            this.progress = progress;
            this.admin = Admin.create(Topics.adminProps(bootstrap));
            try {
                admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3))).all().get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                admin.close();
                throw new IllegalStateException("création du topic " + TOPIC + " impossible : " + Errors.rootMessage(e), e);
            }
            this.writer = new Writer(bootstrap);
            this.reader = new Reader(bootstrap);
            writer.start();
            reader.start();
        }

        /** Starts {@code ./jbang broker --faults --brokers 3} as a child JVM of this one (its classes, not JBang again) and waits for its ready line. */
        static Session start(Consumer<String> progress) {
            int kafkaPort = threeFreePorts();
            int controlPort = Ports.freePort();
            List<String> cmd = new ArrayList<>();
            cmd.add(JBang.currentJava().toString());
            cmd.addAll(Program.quietJvm(cmd.get(0)));
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "Kit", "broker", "--faults", "--brokers", "3",
                    "--port", String.valueOf(kafkaPort), "--control-port", String.valueOf(controlPort)));
            Process p;
            try {
                p = new ProcessBuilder(cmd).start();
            } catch (IOException e) {
                throw new IllegalStateException("impossible de lancer le labo : " + e.getMessage(), e);
            }
            Deque<String> stderr = new ArrayDeque<>();
            drain(p.getErrorStream(), stderr, null, "labo-stderr");
            CountDownLatch ready = new CountDownLatch(1);
            String[] readyLine = new String[1];
            drain(p.getInputStream(), new ArrayDeque<>(), line -> {
                if (line.contains("Labo prêt")) {
                    readyLine[0] = line;
                    ready.countDown();
                }
            }, "labo-stdout");
            try {
                if (!ready.await(180, TimeUnit.SECONDS) || !p.isAlive()) {
                    p.destroyForcibly();
                    throw new IllegalStateException("le labo n'a pas démarré : " + String.join(" / ", snapshot(stderr)));
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrompu");
            }
            Matcher m = READY_LOG.matcher(readyLine[0]);
            Path log = m.find() ? Path.of(m.group(1).strip()) : null;
            progress.accept("labo démarré (pid " + p.pid() + ", Kafka sur localhost:" + kafkaPort + "-" + (kafkaPort + 2)
                    + ", journaux de Kafka : " + log + ")");
            String bootstrap = "localhost:" + kafkaPort + ",localhost:" + (kafkaPort + 1) + ",localhost:" + (kafkaPort + 2);
            try {
                return new Session(p, bootstrap, "http://127.0.0.1:" + controlPort, log, stderr, progress);
            } catch (RuntimeException e) {
                p.destroyForcibly();
                throw e;
            }
        }

        /** Stops the node, starts it again, waits for it in every ISR and for the reader to have every acknowledged record. */
        String cycle(int n, int total, int node, Duration patience) {
            long t0 = System.nanoTime();
            String failed = post("/api/brokers/" + node + "/stop");
            if (failed != null) return failed;
            // as on the page: the controller fences the node (broker.session.timeout.ms) and shrinks the ISR, then it comes back
            long deadline = System.nanoTime() + patience.toNanos();
            while (lab.isAlive() && System.nanoTime() < deadline && !outOfEveryIsr(node)) sleep(100);
            double out = (System.nanoTime() - t0) / 1e9;
            failed = post("/api/brokers/" + node + "/start");
            if (failed != null) return failed;
            deadline = System.nanoTime() + patience.toNanos();
            boolean inIsr = false;
            while (lab.isAlive() && System.nanoTime() < deadline && !(inIsr = inEveryIsr(node))) sleep(100);
            if (!lab.isAlive()) return "le labo est mort";
            if (!inIsr) return "le nœud " + node + " n'est pas revenu dans l'ISR après " + patience.toSeconds() + " s";
            double back = (System.nanoTime() - t0) / 1e9 - out;
            BitSet acked = writer.acked();
            long missing = reader.awaitAll(acked, deadline);
            progress.accept(String.format("cycle %d/%d : nœud %d arrêté, hors de l'ISR en %.1f s, redémarré, de retour dans l'ISR en %.1f s ; "
                            + "%d acquittés, %s (%.1f s)", n, total, node, out, back, acked.cardinality(),
                    missing == 0 ? "tous lus" : missing + " PAS LUS", (System.nanoTime() - t0) / 1e9));
            if (writer.failure != null) return "le producteur s'est arrêté : " + writer.failure;
            if (reader.failure != null) return "le lecteur s'est arrêté : " + reader.failure;
            return missing == 0 ? null : missing + " message(s) acquitté(s) pas lus par le lecteur"
                    + (writer.lastError != null ? " (dernière erreur d'envoi : " + writer.lastError + ")" : "");
        }

        /** Stops the writer, then reads the whole topic again from the start: {acknowledged, lost, duplicated}. */
        long[] verify() {
            writer.finish();
            reader.finish();
            BitSet acked = writer.acked();
            BitSet seen = new BitSet();
            long duplicated = 0;
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(EosBounce.consumerProps(bootstrap, false))) {
                List<TopicPartition> parts = new ArrayList<>();
                for (int i = 0; i < PARTITIONS; i++) parts.add(new TopicPartition(TOPIC, i));
                c.assign(parts);
                c.seekToBeginning(parts);
                Map<TopicPartition, Long> end = c.endOffsets(parts, Duration.ofSeconds(30));
                long deadline = System.currentTimeMillis() + 120_000;
                while (System.currentTimeMillis() < deadline && parts.stream().anyMatch(tp -> c.position(tp, Duration.ofSeconds(30)) < end.get(tp))) {
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                        int seq = Integer.parseInt(r.value());
                        if (seen.get(seq)) duplicated++;
                        seen.set(seq);
                    }
                }
            }
            BitSet lost = (BitSet) acked.clone();
            lost.andNot(seen);
            progress.accept(String.format("relecture complète : %d acquittés, %d relus, %d perdus, %d doublons (%d envois en échec, non acquittés)",
                    acked.cardinality(), seen.cardinality(), lost.cardinality(), duplicated, writer.failed.get()));
            return new long[] {acked.cardinality(), lost.cardinality(), duplicated};
        }

        /** The lab's temporary directory goes with it: a copy of Kafka's log is kept for the post-mortem. */
        void keepLog() {
            if (logFile == null || !Files.exists(logFile)) return;
            try {
                Path copy = Files.createTempFile("lab-bounces-kafka-", ".log");
                Files.copy(logFile, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                progress.accept("journaux de Kafka gardés dans " + copy);
            } catch (IOException e) {
                progress.accept("journaux de Kafka non copiés : " + e.getMessage());
            }
        }

        /** What a dead lab left: its exit code, its last words, and Kafka's fatal lines from its log. */
        List<String> obituary() {
            List<String> out = new ArrayList<>();
            try { lab.waitFor(5, TimeUnit.SECONDS); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
            out.add("✘ le labo est mort (code de sortie " + (lab.isAlive() ? "?" : lab.exitValue()) + ")");
            for (String line : snapshot(stderr)) out.add("  labo : " + line);
            if (logFile != null && Files.exists(logFile)) {
                out.add("  journaux de Kafka : " + logFile);
                try (var lines = Files.lines(logFile, StandardCharsets.UTF_8)) {
                    lines.filter(l -> l.contains(" ERROR ") && (l.contains("fatal") || l.contains("Fatal"))).limit(5)
                            .forEach(l -> out.add("  " + l));
                } catch (IOException | java.io.UncheckedIOException ignored) {
                }
            }
            return out;
        }

        private boolean outOfEveryIsr(int node) {
            try {
                TopicDescription d = admin.describeTopics(List.of(TOPIC)).allTopicNames().get(5, TimeUnit.SECONDS).get(TOPIC);
                return d.partitions().stream().allMatch(p -> p.isr().stream().noneMatch(x -> x.id() == node));
            } catch (Exception e) {
                return false;
            }
        }

        private boolean inEveryIsr(int node) {
            try {
                TopicDescription d = admin.describeTopics(List.of(TOPIC)).allTopicNames().get(5, TimeUnit.SECONDS).get(TOPIC);
                return d.partitions().stream().allMatch(p -> p.isr().size() == 3 && p.isr().stream().anyMatch(x -> x.id() == node));
            } catch (Exception e) {
                return false;
            }
        }

        /** A control API call; null when it went well, else why (the lab's answer, or its silence). */
        private String post(String path) {
            HttpRequest req = HttpRequest.newBuilder(URI.create(control + path)).timeout(Duration.ofSeconds(90))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")).build();
            try {
                HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                return r.statusCode() < 400 ? null : "POST " + path + " → " + r.statusCode() + " " + r.body();
            } catch (IOException e) {
                return lab.isAlive() ? "POST " + path + " : " + Errors.rootMessage(e) : "le labo est mort pendant POST " + path;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrompu";
            }
        }

        @Override
        public void close() {
            writer.finish();
            reader.finish();
            admin.close(Duration.ofSeconds(5));
            if (lab.isAlive()) {
                lab.destroy(); // SIGTERM: the lab's shutdown hook stops the nodes and removes its temporary data
                try {
                    if (!lab.waitFor(60, TimeUnit.SECONDS)) lab.destroyForcibly();
                } catch (InterruptedException e) {
                    lab.destroyForcibly();
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /**
     * The producer: acks=all and idempotent (Kafka's default with acks=all), so that its retries across a leader change
     * neither duplicate nor reorder; a record counts as acknowledged when its callback comes back without an error.
     */
    private static final class Writer extends Thread {
        private final String bootstrap;
        private final BitSet acked = new BitSet();
        private final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong failed = new AtomicLong();
        volatile String failure;
        volatile String lastError;

        Writer(String bootstrap) {
            super("lab-bounces-producteur");
            setDaemon(true);
            this.bootstrap = bootstrap;
        }

        @Override
        public void run() {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
            p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
            p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
                int seq = 0;
                while (!stop.get()) {
                    int s = seq++;
                    producer.send(new ProducerRecord<>(TOPIC, s % PARTITIONS, null, String.valueOf(s)), (md, e) -> {
                        if (e == null) {
                            synchronized (acked) { acked.set(s); }
                        } else {
                            failed.incrementAndGet();
                            lastError = e.getClass().getSimpleName() + " : " + e.getMessage();
                        }
                    });
                    if (seq % 50 == 0) LabBounces.sleep(50); // about 1000 records a second: enough traffic, little CPU
                }
                producer.flush();
            } catch (RuntimeException e) {
                failure = Errors.rootMessage(e); // the lab died under it, or the producer failed: the cycle says so
            }
        }

        BitSet acked() {
            synchronized (acked) { return (BitSet) acked.clone(); }
        }

        void finish() {
            stop.set(true);
            try { join(180_000); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
        }
    }

    /** The reader: follows the topic from its start and keeps what it saw. */
    private static final class Reader extends Thread {
        private final String bootstrap;
        private final BitSet seen = new BitSet();
        private final AtomicBoolean stop = new AtomicBoolean();
        volatile String failure;

        Reader(String bootstrap) {
            super("lab-bounces-lecteur");
            setDaemon(true);
            this.bootstrap = bootstrap;
        }

        @Override
        public void run() {
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(EosBounce.consumerProps(bootstrap, false))) {
                List<TopicPartition> parts = new ArrayList<>();
                for (int i = 0; i < PARTITIONS; i++) parts.add(new TopicPartition(TOPIC, i));
                c.assign(parts);
                c.seekToBeginning(parts);
                while (!stop.get()) {
                    try {
                        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                            int seq = Integer.parseInt(r.value());
                            synchronized (seen) { seen.set(seq); }
                        }
                    } catch (org.apache.kafka.common.errors.RetriableException e) {
                        // a node is down: the client finds the new leader by itself
                    }
                }
            } catch (RuntimeException e) {
                failure = Errors.rootMessage(e); // the lab died under it, or the consumer failed: the cycle says so
            }
        }

        /** Waits until every acknowledged record was seen (or the deadline): how many were not. */
        long awaitAll(BitSet acked, long deadlineNanos) {
            while (true) {
                BitSet missing = (BitSet) acked.clone();
                synchronized (seen) { missing.andNot(seen); }
                if (missing.isEmpty() || System.nanoTime() > deadlineNanos || !isAlive()) return missing.cardinality();
                LabBounces.sleep(50);
            }
        }

        void finish() {
            stop.set(true);
            try { join(30_000); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
        }
    }

    private static int threeFreePorts() {
        for (int attempt = 0; attempt < 50; attempt++) {
            int p = Ports.freePort();
            if (p + 2 <= 65535 && free(p + 1) && free(p + 2)) return p;
        }
        throw new IllegalStateException("pas trois ports libres consécutifs");
    }

    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Keeps the last 40 lines of a child's stream; hands each line to {@code each}. */
    private static void drain(InputStream in, Deque<String> keep, Consumer<String> each, String name) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    synchronized (keep) {
                        keep.addLast(line);
                        if (keep.size() > 40) keep.removeFirst();
                    }
                    if (each != null) each.accept(line);
                }
            } catch (IOException ignored) {
            }
        }, name);
        t.setDaemon(true);
        t.start();
    }

    private static List<String> snapshot(Deque<String> lines) {
        synchronized (lines) { return List.copyOf(lines); }
    }

    static void sleep(long ms) {
        try { Thread.sleep(ms); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
    }
}
