package kit.broker;

import org.apache.kafka.common.utils.internals.Exit;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Kafka ends its process on a fatal fault (Exit.halt, Exit.exit). Here one JVM holds up to 3 nodes, and a stopping
 * node can raise one: Kafka 4.4's combined-mode shutdown closes the metadata log before the metadata loader stops, and a
 * commit the loader handles in between fails (« Unhandled fault in MetadataLoader#handleCommit »,
 * ClosedChannelException), which halted the lab once in 113 restarts of lab-bounces. A fault raised by a node's own
 * threads while it is being stopped ends that node only, as it would have ended its own process; any other fault still
 * ends the JVM, after {@link #onFatal} (the lab says why first).
 */
public final class NodeHalts {

    /** Thrown in the thread of a stopping node instead of ending the JVM. */
    public static final class NodeHalted extends RuntimeException {
        NodeHalted(String message) { super(message); }
    }

    private static final Map<Integer, Integer> STOPPING = new ConcurrentHashMap<>();
    private static final Set<Thread> STOPPERS = ConcurrentHashMap.newKeySet();
    private static volatile Exit.Procedure onFatal;

    private NodeHalts() { }

    /** What a fatal fault outside a node's own stop does before the JVM ends (null: nothing); it may throw to keep the JVM. */
    public static void onFatal(Exit.Procedure procedure) {
        install();
        onFatal = procedure;
    }

    /**
     * Puts this class's procedures in Kafka's Exit, again at each call: a test that set its own and then reset Exit's
     * defaults would otherwise leave Kafka free to end the JVM.
     */
    static synchronized void install() {
        Exit.setHaltProcedure((code, message) -> {
            decide(code, message);
            Runtime.getRuntime().halt(code);
        });
        Exit.setExitProcedure((code, message) -> {
            decide(code, message);
            System.exit(code);
        });
    }

    /** A node's stop begins: its threads' fatal faults end it alone, until it starts again. */
    static void stopping(int nodeId) {
        install();
        STOPPING.merge(nodeId, 1, Integer::sum);
        STOPPERS.add(Thread.currentThread());
    }

    static void stopDone() { STOPPERS.remove(Thread.currentThread()); }

    static void starting(int nodeId) { STOPPING.computeIfPresent(nodeId, (k, v) -> v > 1 ? v - 1 : null); }

    private static void decide(int code, String message) {
        Thread t = Thread.currentThread();
        // Kafka names a node's threads with its id: kafka-3-metadata-loader-event-handler, quorum-controller-3-…, broker-3-…
        if (STOPPERS.contains(t) || STOPPING.keySet().stream().anyMatch(id -> t.getName().contains("-" + id + "-"))) {
            throw new NodeHalted("fatal fault of a stopping node, ended with it (" + t.getName() + ", code " + code + ")");
        }
        Exit.Procedure p = onFatal;
        if (p != null) p.execute(code, message);
    }
}
