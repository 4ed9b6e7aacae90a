package kit.run;

import kit.semantics.Checker;
import kit.util.Errors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/** Small topic chores for the tooling: create one, fill it, read it all back with a given isolation level. */
public final class Topics {
    private Topics() { }

    /** Creates a one-partition topic, replicated on up to 3 nodes. */
    public static void create(String bootstrap, String name) {
        create(bootstrap, name, 1);
    }

    /** Creates a topic of {@code partitions} partitions, replicated on up to 3 nodes. */
    public static void create(String bootstrap, String name, int partitions) {
        try (Admin admin = Admin.create(adminProps(bootstrap))) {
            int nodes = admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).size();
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) Math.min(3, nodes)))).all().get(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("création du topic " + name + " impossible : " + Errors.rootMessage(e), e);
        }
    }

    public static Properties adminProps(String bootstrap) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "15000");
        return p;
    }

    /** Writes the values (key = value) with an acks=all producer. */
    public static void fill(String bootstrap, String topic, List<String> values) {
        fill(bootstrap, topic, values, null);
    }

    /** The same, all on {@code partition} in order, or spread by key when it is null. */
    public static void fill(String bootstrap, String topic, List<String> values, Integer partition) {
        fill(bootstrap, topic, values, v -> v, partition);
    }

    /** Writes the values with the key {@code keyOf} gives each (messages that share a key: updates of one entity). */
    public static void fill(String bootstrap, String topic, List<String> values, UnaryOperator<String> keyOf,
                            Integer partition) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "15000");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            for (String v : values) producer.send(new ProducerRecord<>(topic, partition, keyOf.apply(v), v));
            producer.flush();
        }
    }

    /** Writes the values in one transaction, then aborts it: in the log, but never delivered to read_committed. */
    public static void fillAborted(String bootstrap, String topic, List<String> values) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "kit-avorte-" + topic);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "15000");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            producer.initTransactions();
            producer.beginTransaction();
            for (String v : values) producer.send(new ProducerRecord<>(topic, v, v));
            producer.flush();
            producer.abortTransaction();
        }
    }

    /** A String reader outside any group's commits, with this isolation level. */
    public static Properties readerProps(String bootstrap, boolean readCommitted) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, readCommitted ? "read_committed" : "read_uncommitted");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        return p;
    }

    /** Reads partition 0 up to its end: the last stable offset with read_committed, the high watermark otherwise. */
    public static List<ConsumerRecord<String, String>> readAll(String bootstrap, String topic, boolean readCommitted) {
        Properties p = readerProps(bootstrap, readCommitted);
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        TopicPartition tp = new TopicPartition(topic, 0);
        if (readCommitted) awaitTransactionMarkers(bootstrap, topic);
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            c.assign(Set.of(tp));
            c.seekToBeginning(Set.of(tp));
            long end = c.endOffsets(Set.of(tp), Duration.ofSeconds(10)).get(tp);
            long deadline = System.currentTimeMillis() + 20_000;
            while (c.position(tp, Duration.ofSeconds(10)) < end && System.currentTimeMillis() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    /**
     * commitTransaction() returns before the commit markers reach the partitions: until they do, the last stable
     * offset lags and read_committed would stop short. Waits (5 s at most) for it to reach the high watermark;
     * a transaction really left open keeps it behind, and then read_committed rightly stops there.
     */
    private static void awaitTransactionMarkers(String bootstrap, String topic) {
        try (Admin admin = Admin.create(adminProps(bootstrap))) {
            awaitStable(admin, topic, Duration.ofSeconds(5));
        } catch (Exception e) {
            // read anyway: the reader has its own deadline
        }
    }

    /**
     * Waits, {@code timeout} at most, until every partition of the topic has its last stable offset at its high
     * watermark (no transaction open on it, the markers of the finished ones landed); false if it never did.
     */
    public static boolean awaitStable(Admin admin, String topic, Duration timeout) throws Exception {
        long deadline = System.currentTimeMillis() + timeout.toMillis();
        while (true) {
            if (endOffsets(admin, topic, IsolationLevel.READ_COMMITTED).equals(endOffsets(admin, topic, IsolationLevel.READ_UNCOMMITTED))) return true;
            if (System.currentTimeMillis() >= deadline) return false;
            Thread.sleep(50);
        }
    }

    /** Every partition's end: its last stable offset with READ_COMMITTED, its high watermark with READ_UNCOMMITTED. */
    public static Map<TopicPartition, Long> endOffsets(Admin admin, String topic, IsolationLevel level) throws Exception {
        var desc = admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic);
        Map<TopicPartition, OffsetSpec> specs = new LinkedHashMap<>();
        for (var p : desc.partitions()) specs.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest());
        Map<TopicPartition, Long> out = new LinkedHashMap<>();
        admin.listOffsets(specs, new ListOffsetsOptions(level)).all().get(15, TimeUnit.SECONDS).forEach((tp, info) -> out.put(tp, info.offset()));
        return out;
    }

    /**
     * Every partition of the topic read to its end: with read_committed, after waiting (15 s at most) for the
     * transactions' markers to land, up to the last stable offsets; otherwise up to the high watermarks.
     */
    public static List<ConsumerRecord<String, String>> readAllPartitions(String bootstrap, String topic, boolean readCommitted) throws Exception {
        if (readCommitted) {
            try (Admin admin = Admin.create(adminProps(bootstrap))) {
                awaitStable(admin, topic, Duration.ofSeconds(15));
            }
        }
        Properties p = readerProps(bootstrap, readCommitted);
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000"); // large polls: the whole topic is read at once
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = c.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                    .map(x -> new TopicPartition(topic, x.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts, Duration.ofSeconds(10));
            List<ConsumerRecord<String, String>> out = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 60_000;
            while (System.currentTimeMillis() < deadline && parts.stream().anyMatch(tp -> c.position(tp, Duration.ofSeconds(10)) < end.get(tp))) {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
            return out;
        }
    }

    private static long latest(Admin admin, TopicPartition tp, IsolationLevel level) throws Exception {
        return admin.listOffsets(Map.of(tp, OffsetSpec.latest()), new ListOffsetsOptions(level)).partitionResult(tp)
                .get(10, TimeUnit.SECONDS).offset();
    }

    /** Partition 0's end offset (its high watermark), or -1 if it can't be read. */
    public static long endOffset(String bootstrap, String topic) {
        try (Admin admin = Admin.create(adminProps(bootstrap))) {
            return latest(admin, new TopicPartition(topic, 0), IsolationLevel.READ_UNCOMMITTED);
        } catch (Exception e) {
            return -1;
        }
    }

    /**
     * The group's committed offset on partition 0 of the topic; -1 if it has none. With requireStable, an offset
     * committed inside a transaction counts once the transaction is complete, as a restarted consumer would see it.
     */
    public static long committedOffset(String bootstrap, String group, String topic) {
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = Admin.create(adminProps(bootstrap))) {
            var offsets = admin.listConsumerGroupOffsets(Map.of(group, new ListConsumerGroupOffsetsSpec().topicPartitions(List.of(tp))),
                    new ListConsumerGroupOffsetsOptions().requireStable(true)).partitionsToOffsetAndMetadata(group).get(15, TimeUnit.SECONDS);
            var at = offsets.get(tp);
            return at == null ? -1 : at.offset();
        } catch (Exception e) {
            return -1;
        }
    }

    /** The id of the node leading partition 0 of the topic. */
    public static int leader(String bootstrap, String topic) {
        try (Admin admin = Admin.create(adminProps(bootstrap))) {
            long deadline = System.currentTimeMillis() + 10_000;
            while (true) {
                try {
                    var leader = admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS)
                            .get(topic).partitions().get(0).leader();
                    if (leader != null) return leader.id();
                } catch (ExecutionException e) {
                    // a topic just created may not have reached every node's metadata yet
                    if (System.currentTimeMillis() > deadline) throw e;
                }
                if (System.currentTimeMillis() > deadline) throw new IllegalStateException("pas de leader");
                Thread.sleep(100);
            }
        } catch (Exception e) {
            throw new IllegalStateException("leader du topic " + topic + " introuvable : " + Errors.rootMessage(e), e);
        }
    }

    /** Waits until partition 0 holds at least {@code count} records (committed or not); false on timeout. */
    public static boolean awaitRecords(String bootstrap, String topic, long count, Duration timeout) {
        TopicPartition tp = new TopicPartition(topic, 0);
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Admin admin = Admin.create(adminProps(bootstrap))) {
            while (System.nanoTime() < deadline) {
                try {
                    if (latest(admin, tp, IsolationLevel.READ_UNCOMMITTED) >= count) return true;
                } catch (InterruptedException e) {
                    throw e;
                } catch (Exception e) {
                    // a topic just created is not yet known to every node of a cluster (UnknownTopicOrPartition): ask again
                }
                Thread.sleep(20);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    public static List<Checker.ReadValue> readValues(String bootstrap, String topic, boolean readCommitted) {
        return readAll(bootstrap, topic, readCommitted).stream().map(r -> new Checker.ReadValue(r.value(), r.offset())).toList();
    }
}
