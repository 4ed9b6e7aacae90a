package kit.faults;

import java.util.Map;
import java.util.TreeMap;

/**
 * Which leaders' followers may not fetch right now: the state behind {@code fault hold-replication}, shared by the
 * {@link ReplicationGate}s of one lab. A hold names a node (the followers' Fetch requests sent to it wait) or all of
 * them, until {@link #release()} or until its time is up. Thread-safe.
 */
public final class ReplicationHold {

    /** Node id → until when (epoch ms; {@link Long#MAX_VALUE}: until released). */
    private final Map<Integer, Long> until = new TreeMap<>();
    private final Map<Integer, Integer> waiting = new TreeMap<>();

    /** Holds the followers' fetches from node {@code node} (0: from every node) for {@code ms} ms (0: until released). */
    public synchronized void hold(int node, long ms) {
        if (ms < 0) throw new IllegalArgumentException("la durée ne peut pas être négative (reçu : " + ms + " ms)");
        long end = ms == 0 ? Long.MAX_VALUE : System.currentTimeMillis() + ms;
        until.put(node, end);
        notifyAll();
    }

    /** Lets every follower fetch again; the requests that waited go on at once. Returns how many holds were lifted. */
    public synchronized int release() {
        long now = System.currentTimeMillis();
        int n = (int) until.values().stream().filter(end -> end > now).count();
        until.clear();
        notifyAll();
        return n;
    }

    /** Whether the followers of node {@code node} may not fetch from it now. */
    public synchronized boolean held(int node) {
        long now = System.currentTimeMillis();
        return until.getOrDefault(node, 0L) > now || until.getOrDefault(0, 0L) > now;
    }

    /** The nodes held now (0: all of them), with the time left in ms (-1: until released). */
    public synchronized Map<Integer, Long> holds() {
        long now = System.currentTimeMillis();
        Map<Integer, Long> out = new TreeMap<>();
        until.forEach((node, end) -> {
            if (end > now) out.put(node, end == Long.MAX_VALUE ? -1 : end - now);
        });
        return out;
    }

    /** How many follower Fetch requests are waiting in the gates now. */
    public synchronized int waiting() { return waiting.values().stream().mapToInt(Integer::intValue).sum(); }

    /**
     * Waits (at most {@code timeoutMs}) until {@code followers} Fetch requests to node {@code node} wait in its gate. A
     * follower's Fetch that reached the leader just before the hold waits there for data (up to
     * replica.fetch.wait.max.ms, 500 ms by default) and would carry the next records away: once each follower's next
     * Fetch is held here, none is left in the leader. Returns whether they all are.
     */
    public synchronized boolean awaitFollowersHeld(int node, int followers, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (waiting.getOrDefault(node, 0) < followers) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) return false;
            wait(left);
        }
        return true;
    }

    /** Blocks while node {@code node} is held; the gate calls it with a follower's Fetch request in hand. */
    synchronized void awaitRelease(int node) throws InterruptedException {
        waiting.merge(node, 1, Integer::sum);
        notifyAll();
        try {
            while (held(node)) {
                // held until the later of the two holds (this node's, every node's); an open one waits for release()
                long end = Math.max(until.getOrDefault(node, 0L), until.getOrDefault(0, 0L));
                wait(end == Long.MAX_VALUE ? 0 : Math.max(1, end - System.currentTimeMillis()));
            }
        } finally {
            waiting.merge(node, -1, (a, b) -> a + b == 0 ? null : a + b);
        }
    }
}
