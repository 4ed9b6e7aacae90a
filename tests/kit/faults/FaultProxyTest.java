package kit.faults;

import kit.KafkaFixture;
import kit.broker.KafkaProbe;
import kit.semantics.Checker;
import kit.semantics.Semantic;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The proxy's two faults separate the three producer semantics, on raw producers: each cell of the course's table. */
class FaultProxyTest {

    private static FaultyKafka kafka;

    @BeforeAll
    static void start() { kafka = FaultyKafka.start(1); }

    @AfterAll
    static void stop() { kafka.close(); }

    @Test
    void atMostOnceProducer_lostRequest_losesWithoutDuplicate() {
        Checker.Report r = run(Semantic.AT_MOST_ONCE, FaultPlan.Fault.LOSE_REQUEST);
        assertTrue(r.lost() >= 1, r.describe());
        assertEquals(0, r.duplicated(), r.describe());
    }

    @Test
    void atMostOnceProducer_lostResponse_hasNoResponseToLose() {
        Checker.Report r = run(Semantic.AT_MOST_ONCE, FaultPlan.Fault.LOSE_RESPONSE);
        assertEquals(0, kafka.faults().fired(), "acks=0 : pas de réponse à perdre");
        assertTrue(r.clean(), r.describe());
    }

    @Test
    void atLeastOnceProducer_lostRequest_retriesWithoutLossOrDuplicate() {
        Checker.Report r = run(Semantic.AT_LEAST_ONCE, FaultPlan.Fault.LOSE_REQUEST);
        assertTrue(r.clean(), r.describe());
    }

    @Test
    void atLeastOnceProducer_lostResponse_duplicatesWithoutLoss() {
        Checker.Report r = run(Semantic.AT_LEAST_ONCE, FaultPlan.Fault.LOSE_RESPONSE);
        assertEquals(0, r.lost(), r.describe());
        assertTrue(r.duplicated() >= 1, r.describe());
    }

    @Test
    void exactlyOnceProducer_lostRequest_neitherLossNorDuplicate() {
        assertTrue(run(Semantic.EXACTLY_ONCE, FaultPlan.Fault.LOSE_REQUEST).clean());
    }

    @Test
    void exactlyOnceProducer_lostResponse_neitherLossNorDuplicate() {
        Checker.Report r = run(Semantic.EXACTLY_ONCE, FaultPlan.Fault.LOSE_RESPONSE);
        assertTrue(r.clean(), r.describe());
    }

    @Test
    void refuseFor_makesTheBrokerUnreachable_thenItComesBack() throws Exception {
        kafka.faults().refuseFor(1500);
        assertEquals(null, KafkaProbe.describe(kafka.bootstrapServers(), 800), "le broker doit sembler injoignable");
        Thread.sleep(1600);
        assertTrue(KafkaProbe.describe(kafka.bootstrapServers()) != null, "joignable de nouveau");
    }

    enum Semantic { AT_MOST_ONCE, AT_LEAST_ONCE, EXACTLY_ONCE }

    /** Sends 10 records, one request each, with the fault armed on the 3rd Produce request; checks what was read back. */
    private static Checker.Report run(Semantic semantic, FaultPlan.Fault fault) {
        String topic = "proxy-" + UUID.randomUUID().toString().substring(0, 8);
        KafkaFixture.createTopic(kafka.bootstrapServers(), topic);
        Properties p = KafkaFixture.producerProps(kafka.bootstrapServers(), semantic == Semantic.AT_MOST_ONCE ? "0" : "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "15000");
        switch (semantic) {
            case AT_MOST_ONCE -> { p.put(ProducerConfig.RETRIES_CONFIG, "0"); p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false"); }
            case AT_LEAST_ONCE -> { p.put(ProducerConfig.RETRIES_CONFIG, "5"); p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false"); }
            case EXACTLY_ONCE -> p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "tx-" + topic);
        }
        List<String> acked = Collections.synchronizedList(new ArrayList<>());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            if (semantic == Semantic.EXACTLY_ONCE) {
                producer.initTransactions();
                producer.beginTransaction();
            }
            kafka.faults().arm(fault, 3);
            for (int i = 1; i <= 10; i++) {
                String v = topic + "-" + i;
                producer.send(new ProducerRecord<>(topic, v, v), (md, e) -> { if (e == null) acked.add(v); });
                producer.flush();
            }
            if (semantic == Semantic.EXACTLY_ONCE) producer.commitTransaction();
        } finally {
            kafka.faults().disarm();
        }
        if (fault == FaultPlan.Fault.LOSE_REQUEST || semantic != Semantic.AT_MOST_ONCE) {
            assertEquals(1, kafka.faults().fired(), "la panne doit avoir été injectée");
        }
        List<Checker.ReadValue> read = KafkaFixture.readAll(kafka.bootstrapServers(), topic, true).stream()
                .map(r -> new Checker.ReadValue(r.value(), r.offset())).toList();
        return Checker.check(acked, read, List.of());
    }
}
