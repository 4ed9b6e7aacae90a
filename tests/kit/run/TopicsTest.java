package kit.run;

import kit.KafkaFixture;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading a whole topic, every partition, as the tour's exactly-once checks read their output. */
class TopicsTest {

    @Test
    void readAllPartitions_readCommitted_seesEveryCommittedRecordOfEveryPartition_andNoAbortedOne() throws Exception {
        String bootstrap = KafkaFixture.bootstrap();
        String topic = "toutes-" + UUID.randomUUID().toString().substring(0, 8);
        Topics.create(bootstrap, topic, 3);
        List<String> committed = IntStream.rangeClosed(1, 30).mapToObj(i -> "v-" + i).toList();
        Topics.fill(bootstrap, topic, committed);
        Topics.fillAborted(bootstrap, topic, List.of("avorte-1", "avorte-2", "avorte-3", "avorte-4", "avorte-5"));

        List<ConsumerRecord<String, String>> visible = Topics.readAllPartitions(bootstrap, topic, true);
        assertEquals(new HashSet<>(committed), new HashSet<>(visible.stream().map(ConsumerRecord::value).toList()));
        assertEquals(committed.size(), visible.size(), "ni perte ni doublon : " + visible.size());
        assertTrue(visible.stream().map(ConsumerRecord::partition).distinct().count() > 1, "plusieurs partitions lues");
        assertEquals(35, Topics.readAllPartitions(bootstrap, topic, false).size(), "read_uncommitted voit aussi les avortés");
        try (Admin admin = Admin.create(Topics.adminProps(bootstrap))) {
            assertTrue(Topics.awaitStable(admin, topic, Duration.ofSeconds(5)), "aucune transaction ouverte : LSO = HW");
            assertEquals(3, Topics.endOffsets(admin, topic, IsolationLevel.READ_COMMITTED).size());
        }
    }
}
