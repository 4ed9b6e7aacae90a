package kit.faults;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The replication fault without a broker: which Fetch requests the gate holds, and how long a hold lasts. */
class ReplicationHoldTest {

    /** A Fetch request frame as a broker's follower (replica id ≥ 0) or a consumer (-1) sends it, size prefix removed. */
    private static byte[] fetch(short version, int replicaId) {
        Map<TopicPartition, FetchRequest.PartitionData> data = Map.of(new TopicPartition("t", 0),
                new FetchRequest.PartitionData(Uuid.randomUuid(), 0, 0, 1024, Optional.empty()));
        FetchRequest request = (replicaId >= 0 ? FetchRequest.Builder.forReplica(version, replicaId, 1, 500, 1, data)
                : FetchRequest.Builder.forConsumer(version, 500, 1, data)).build(version);
        ByteBuffer b = request.serializeWithHeader(new RequestHeader(ApiKeys.FETCH, version, "c", 7));
        byte[] frame = new byte[b.remaining()];
        b.get(frame);
        return frame;
    }

    @Test
    void followersFetches_areHeld_consumersAndOtherRequestsAreNot_inEveryFetchVersionOfKafka44() {
        // version 12: the replica id in ReplicaId; 15 and up: in ReplicaState
        for (short v : new short[] {12, 15, ApiKeys.FETCH.latestVersion()}) {
            assertTrue(ReplicationGate.fromFollower(fetch(v, 2)), "Fetch v" + v + " d'un follower");
            assertFalse(ReplicationGate.fromFollower(fetch(v, -1)), "Fetch v" + v + " d'un consommateur");
        }
        assertFalse(ReplicationGate.fromFollower(new byte[] {0, 3, 0, 12, 0, 0, 0, 1}), "une requête Metadata");
    }

    @Test
    void aTimedHold_endsOnItsOwn_anOpenOneAtRelease_andANegativeDurationIsRefused() throws Exception {
        ReplicationHold hold = new ReplicationHold();
        hold.hold(2, 300);
        assertTrue(hold.held(2) && !hold.held(1));
        long t0 = System.nanoTime();
        hold.awaitRelease(2);   // returns when the 300 ms are up
        long waited = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(waited >= 200 && waited < 5000, "attendu ≈ 300 ms, pas " + waited + " ms");
        assertFalse(hold.held(2));

        hold.hold(0, 0);        // every node, until released
        assertTrue(hold.held(1) && hold.held(3));
        Thread waiter = new Thread(() -> {
            try { hold.awaitRelease(3); } catch (InterruptedException ignored) { }
        });
        waiter.start();
        long deadline = System.currentTimeMillis() + 5000;
        while (hold.waiting() == 0 && System.currentTimeMillis() < deadline) Thread.sleep(10);
        assertEquals(1, hold.waiting(), "une requête retenue");
        assertEquals(1, hold.release());
        waiter.join(5000);
        assertFalse(waiter.isAlive(), "release() laisse partir la requête retenue");
        assertEquals(0, hold.waiting());
        assertThrows(IllegalArgumentException.class, () -> hold.hold(1, -1));
    }
}
