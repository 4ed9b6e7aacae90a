package kit.bench;

import kit.broker.KafkaLogs;
import kit.run.JBang;
import kit.run.Program;
import kit.run.ScriptRunner;

import kit.run.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the bench measures: the kit's producer loop for each semantic, the same configs through Kafka's own
 * ProducerPerformance (in its own JVM), and consumers with read_uncommitted against read_committed.
 */
public final class Bench {

    /** The reference tool: kafka-tools of the kit's Kafka release (the pom's kafka.tools.version), with its own clients. */
    public static final String TOOLS_GAV = "org.apache.kafka:kafka-tools:4.4.0";

    /** One producer semantic as the bench runs it: producer properties, and a commit interval for transactions. */
    public enum Config {
        ACKS_0("acks=0 (at-most-once)", Map.of("acks", "0", "enable.idempotence", "false"), 0),
        AT_LEAST_ONCE("acks=all sans idempotence (at-least-once)", Map.of("acks", "all", "enable.idempotence", "false"), 0),
        IDEMPOTENT("idempotent (acks=all)", Map.of("acks", "all", "enable.idempotence", "true"), 0),
        TX_10("transactionnel (commit toutes les 10 ms)", Map.of("acks", "all", "enable.idempotence", "true"), 10),
        TX_100("transactionnel (commit toutes les 100 ms)", Map.of("acks", "all", "enable.idempotence", "true"), 100),
        TX_1000("transactionnel (commit toutes les 1000 ms)", Map.of("acks", "all", "enable.idempotence", "true"), 1000);

        public final String french;
        public final Map<String, String> props;
        public final int commitMs;

        Config(String french, Map<String, String> props, int commitMs) {
            this.french = french;
            this.props = props;
            this.commitMs = commitMs;
        }
    }

    /** Throughput and send→acknowledgement latency of one run. */
    public record Stats(long records, double seconds, int recordSize, double p50Ms, double p99Ms) {
        public double recordsPerSec() { return records / seconds; }

        public double mbPerSec() { return records * (double) recordSize / seconds / (1024 * 1024); }
    }

    private Bench() { }

    /** The line a loop run in its own JVM prints for {@link #produceInOwnJvm}: records, seconds, p50 and p99. */
    private static final Pattern OWN_JVM_LINE = Pattern.compile("BENCH (\\d+) ([\\d.E-]+) ([\\d.E-]+) ([\\d.E-]+)");

    /** Entry point of the kit's loop in its own JVM: BOOTSTRAP TOPIC CONFIG COUNT SIZE. */
    public static void main(String... args) {
        KafkaLogs.consoleOnly();
        Stats s = produce(args[0], args[1], Config.valueOf(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]));
        System.out.println("BENCH " + s.records() + " " + s.seconds() + " " + s.p50Ms() + " " + s.p99Ms());
    }

    /**
     * The kit's loop in a fresh JVM of its own, as ProducerPerformance runs: both pay the same start-up and JIT warm-up,
     * and neither shares a heap (and its GC pauses) with the embedded broker.
     */
    public static Stats produceInOwnJvm(String bootstrap, String topic, Config config, int count, int size, List<String> jvm,
                                        Duration timeout) {
        List<String> cmd = java(jvm);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"),
                Bench.class.getName(), bootstrap, topic, config.name(), String.valueOf(count), String.valueOf(size)));
        ScriptRunner.Result r = ScriptRunner.run(cmd, ScriptRunner.root(), Map.of(), timeout);
        Matcher m = OWN_JVM_LINE.matcher(r.stdout());
        if (r.exitCode() != 0 || !m.find()) {
            throw new IllegalStateException("la boucle du kit a échoué (code " + r.exitCode() + ") : "
                    + r.stderr().lines().filter(l -> !l.isBlank()).reduce((a, b) -> b).orElse(""));
        }
        return new Stats(Long.parseLong(m.group(1)), Double.parseDouble(m.group(2)), size, Double.parseDouble(m.group(3)),
                Double.parseDouble(m.group(4)));
    }

    /** The kit's loop: send as fast as possible with a callback, as ProducerPerformance does; commit every commitMs. */
    public static Stats produce(String bootstrap, String topic, Config config, int count, int size) {
        Properties p = producerProps(bootstrap, config);
        if (config.commitMs > 0) p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "bench-" + topic);
        byte[] payload = payload(size);
        long[] latencies = new long[count];
        AtomicInteger acked = new AtomicInteger();
        long start;
        long end;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            if (config.commitMs > 0) producer.initTransactions();
            start = System.nanoTime();
            long txStart = 0;
            boolean inTx = false;
            for (int i = 0; i < count; i++) {
                if (config.commitMs > 0 && !inTx) {
                    producer.beginTransaction();
                    txStart = System.nanoTime();
                    inTx = true;
                }
                final int index = i;
                final long sentAt = System.nanoTime();
                producer.send(new ProducerRecord<>(topic, payload), (md, e) -> {
                    latencies[index] = System.nanoTime() - sentAt;
                    if (e == null) acked.incrementAndGet();
                });
                if (inTx && System.nanoTime() - txStart >= config.commitMs * 1_000_000L) {
                    producer.commitTransaction();
                    inTx = false;
                }
            }
            if (inTx) producer.commitTransaction();
            producer.flush();
            end = System.nanoTime();
        }
        if (acked.get() < count) throw new IllegalStateException((count - acked.get()) + " envois en échec pendant le bench (" + config.french + ")");
        Arrays.sort(latencies);
        return new Stats(count, (end - start) / 1e9, size, latencies[count / 2] / 1e6, latencies[(int) Math.min(count - 1, count * 0.99)] / 1e6);
    }

    /** ProducerPerformance with the same properties, in its own JVM; its summary line parsed. */
    public static Stats reference(String bootstrap, String topic, Config config, int count, int size, String classpath,
                                  List<String> jvm, Duration timeout) {
        List<String> cmd = java(jvm);
        cmd.addAll(List.of("-cp", classpath,
                "org.apache.kafka.tools.ProducerPerformance", "--topic", topic, "--num-records", String.valueOf(count),
                "--record-size", String.valueOf(size), "--throughput", "-1", "--producer-props"));
        producerProps(bootstrap, config).forEach((k, v) -> {
            if (!k.toString().endsWith("serializer")) cmd.add(k + "=" + v);
        });
        if (config.commitMs > 0) cmd.addAll(List.of("--transactional-id", "ref-" + topic, "--transaction-duration-ms", String.valueOf(config.commitMs)));
        ScriptRunner.Result r = ScriptRunner.run(cmd, ScriptRunner.root(), Map.of(), timeout);
        Matcher m = Pattern.compile("(\\d+) records sent, ([\\d.]+) records/sec \\([\\d.]+ MB/sec\\), [\\d.]+ ms avg latency, "
                + "[\\d.]+ ms max latency, (\\d+) ms 50th, \\d+ ms 95th, (\\d+) ms 99th").matcher(r.stdout());
        String last = null;
        long records = 0;
        double rate = 0;
        double p50 = 0;
        double p99 = 0;
        while (m.find()) {
            last = m.group();
            records = Long.parseLong(m.group(1));
            rate = Double.parseDouble(m.group(2));
            p50 = Double.parseDouble(m.group(3));
            p99 = Double.parseDouble(m.group(4));
        }
        if (r.exitCode() != 0 || last == null) {
            throw new IllegalStateException("ProducerPerformance a échoué (code " + r.exitCode() + ") : "
                    + r.stderr().lines().filter(l -> !l.isBlank()).reduce((a, b) -> b).orElse(""));
        }
        return new Stats(records, records / rate, size, p50, p99);
    }

    /** This JVM's java with {@code jvm} flags: the kit's loop and the reference always get the same. */
    private static List<String> java(List<String> jvm) {
        List<String> cmd = new ArrayList<>();
        cmd.add(JBang.currentJava().toString());
        cmd.addAll(Program.quietJvm(cmd.get(0)));
        cmd.addAll(jvm);
        return cmd;
    }

    /** Reads a whole topic from the start with the given isolation level: records per second. */
    public static Stats drain(String bootstrap, String topic, boolean readCommitted, int size) {
        Properties p = consumerProps(bootstrap, readCommitted);
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            c.assign(Set.of(tp));
            c.seekToBeginning(Set.of(tp));
            long end = c.endOffsets(Set.of(tp)).get(tp);
            long n = 0;
            long start = System.nanoTime();
            long deadline = System.currentTimeMillis() + 60_000;
            while (c.position(tp) < end && System.currentTimeMillis() < deadline) n += c.poll(Duration.ofMillis(200)).count();
            return new Stats(n, (System.nanoTime() - start) / 1e9, size, 0, 0);
        }
    }

    /**
     * A consumer group member at-least-once, as the course's script: subscribe, process the batch, commitSync; records per
     * second until the whole topic (one partition, non-transactional) is read.
     */
    public static Stats drainGroupAtLeastOnce(String bootstrap, String topic, int size) {
        Properties p = consumerProps(bootstrap, false);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-groupe-" + System.nanoTime());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        long end = Topics.endOffset(bootstrap, topic);
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            c.subscribe(List.of(topic));
            long n = 0;
            long start = System.nanoTime();
            long deadline = System.currentTimeMillis() + 60_000;
            while (n < end && System.currentTimeMillis() < deadline) {
                int got = c.poll(Duration.ofMillis(200)).count();
                if (got > 0) c.commitSync();
                n += got;
            }
            return new Stats(n, (System.nanoTime() - start) / 1e9, size, 0, 0);
        }
    }

    /**
     * A share group member (KIP-932) with explicit acknowledgements: each record ACCEPTed, then commitSync per batch;
     * records per second until the whole topic is read. The new group starts at the earliest offset (set through Admin).
     */
    public static Stats drainShareExplicit(String bootstrap, String topic, int size) throws Exception {
        String group = "bench-file-" + System.nanoTime();
        try (Admin admin = Admin.create(Topics.adminProps(bootstrap))) {
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, group),
                    List.of(new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"), AlterConfigOp.OpType.SET))))
                    .all().get(10, TimeUnit.SECONDS);
        }
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG, "explicit");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        long end = Topics.endOffset(bootstrap, topic);
        try (KafkaShareConsumer<byte[], byte[]> c = new KafkaShareConsumer<>(p)) {
            c.subscribe(List.of(topic));
            long n = 0;
            long start = System.nanoTime();
            long deadline = System.currentTimeMillis() + 60_000;
            while (n < end && System.currentTimeMillis() < deadline) {
                ConsumerRecords<byte[], byte[]> records = c.poll(Duration.ofMillis(200));
                for (ConsumerRecord<byte[], byte[]> r : records) c.acknowledge(r, AcknowledgeType.ACCEPT);
                if (!records.isEmpty()) c.commitSync();
                n += records.count();
            }
            return new Stats(n, (System.nanoTime() - start) / 1e9, size, 0, 0);
        }
    }

    /**
     * End to end: a transactional producer (commit every commitMs) writes for {@code millis} while two consumers read,
     * one read_uncommitted and one read_committed. Latency = reception − record timestamp. Returns {uncommitted, committed}.
     */
    public static Map<Boolean, Stats> endToEnd(String bootstrap, String topic, int commitMs, long millis, int size) throws Exception {
        Map<Boolean, Stats> out = new LinkedHashMap<>();
        List<Thread> readers = new ArrayList<>();
        Map<Boolean, List<Double>> latencies = new LinkedHashMap<>();
        long stopAt = System.currentTimeMillis() + millis + 2000;
        for (boolean rc : List.of(false, true)) {
            List<Double> mine = new ArrayList<>();
            latencies.put(rc, mine);
            Thread t = new Thread(() -> {
                try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(consumerProps(bootstrap, rc))) {
                    TopicPartition tp = new TopicPartition(topic, 0);
                    c.assign(Set.of(tp));
                    c.seekToEnd(Set.of(tp));
                    c.position(tp);
                    while (System.currentTimeMillis() < stopAt) {
                        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(50))) {
                            mine.add((double) (System.currentTimeMillis() - r.timestamp()));
                        }
                    }
                }
            });
            t.start();
            readers.add(t);
        }
        Thread.sleep(1500); // both readers assigned and at the end of the topic
        Properties p = producerProps(bootstrap, Config.TX_100);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "bench-e2e-" + topic);
        byte[] payload = payload(size);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            producer.initTransactions();
            long end = System.currentTimeMillis() + millis;
            while (System.currentTimeMillis() < end) {
                producer.beginTransaction();
                long txEnd = System.currentTimeMillis() + commitMs;
                while (System.currentTimeMillis() < txEnd) {
                    producer.send(new ProducerRecord<>(topic, payload));
                    Thread.sleep(1); // a steady stream, not a flood: latency, not throughput, is measured here
                }
                producer.commitTransaction();
            }
        }
        for (Thread t : readers) t.join();
        for (var e : latencies.entrySet()) {
            double[] l = e.getValue().stream().mapToDouble(Double::doubleValue).sorted().toArray();
            if (l.length == 0) throw new IllegalStateException("aucun message reçu pendant la mesure de bout en bout");
            out.put(e.getKey(), new Stats(l.length, millis / 1000.0, size, l[l.length / 2], l[(int) Math.min(l.length - 1, l.length * 0.99)]));
        }
        return out;
    }

    static Properties producerProps(String bootstrap, Config config) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.putAll(config.props);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return p;
    }

    private static Properties consumerProps(String bootstrap, boolean readCommitted) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, readCommitted ? "read_committed" : "read_uncommitted");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return p;
    }

    private static byte[] payload(int size) {
        byte[] b = new byte[size];
        Random r = new Random(42);
        for (int i = 0; i < size; i++) b[i] = (byte) (r.nextInt(26) + 65); // as ProducerPerformance: random uppercase letters
        return b;
    }
}
