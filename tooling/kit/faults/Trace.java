package kit.faults;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * What went over the wire through a lab's proxies: one entry per request, numbered, newest last. Bounded: it keeps the
 * last {@link #CAPACITY} entries, so a long bench through the lab can't make it grow without limit. Thread-safe.
 */
public final class Trace {

    public static final int CAPACITY = 10_000;

    /** Background chatter left out unless asked for: they would drown the few requests a lesson is about. */
    public static final Set<String> NOISE = Set.of("ApiVersions", "Metadata", "Heartbeat", "ConsumerGroupHeartbeat", "Fetch",
            "ListOffsets", "DescribeCluster", "GetTelemetrySubscriptions", "PushTelemetry", "DescribeConfigs", "DescribeGroups",
            "DescribeTopicPartitions", "ListGroups", "OffsetFetch", "JoinGroup", "SyncGroup", "LeaveGroup");

    private final int capacity;
    private final Deque<TraceEntry> entries = new ArrayDeque<>();
    private final List<Consumer<TraceEntry>> listeners = new CopyOnWriteArrayList<>();
    private long next = 1;

    public Trace() { this(CAPACITY); }

    Trace(int capacity) { this.capacity = capacity; }

    /** The number the next entry will get: pass it to {@link #since} later to get only what came after. */
    public synchronized long next() { return next; }

    /** Records a new entry under the next number (the seq given is ignored) and returns it. */
    public TraceEntry add(TraceEntry e) {
        TraceEntry numbered;
        synchronized (this) {
            numbered = new TraceEntry(next++, e.epochMs(), e.node(), e.clientId(), e.api(), e.apiKey(), e.apiVersion(),
                    e.correlationId(), e.action(), e.partitions(), e.offsets(), e.transactionalId(), e.groupId(), e.error(), e.acks(),
                    e.share(), e.member());
            entries.addLast(numbered);
            while (entries.size() > capacity) entries.removeFirst();
        }
        listeners.forEach(l -> l.accept(numbered));
        return numbered;
    }

    /** Replaces the entry with the same seq (a response came back, or it was dropped); gone entries are ignored. */
    public void update(TraceEntry e) {
        boolean found = false;
        synchronized (this) {
            // the entry is almost always among the last few: walk from the end
            var it = entries.descendingIterator();
            List<TraceEntry> after = new ArrayList<>();
            while (it.hasNext()) {
                TraceEntry x = it.next();
                if (x.seq() == e.seq()) {
                    it.remove();
                    found = true;
                    break;
                }
                if (x.seq() < e.seq()) break;
                after.add(x);
                it.remove();
            }
            if (found) entries.addLast(e);
            for (int i = after.size() - 1; i >= 0; i--) entries.addLast(after.get(i));
        }
        if (found) listeners.forEach(l -> l.accept(e));
    }

    /** The entries numbered {@code from} or later, oldest first; without the background chatter unless {@code all}. */
    public synchronized List<TraceEntry> since(long from, boolean all) {
        List<TraceEntry> out = new ArrayList<>();
        for (TraceEntry e : entries) {
            if (e.seq() >= from && (all || !noise(e))) out.add(e);
        }
        return out;
    }

    /**
     * Background chatter: the APIs of {@link #NOISE}; a share group's heartbeat that changes nothing (same epoch back,
     * neither a join, epoch 0, nor a leave, -1); a ShareFetch that neither acknowledged nor acquired anything (the
     * long poll of an idle member). Faulted entries never are.
     */
    static boolean noise(TraceEntry e) {
        if (NOISE.contains(e.api())) return true;
        if (e.action() != TraceEntry.Action.FORWARDED || e.error() != null) return false;
        if ("ShareGroupHeartbeat".equals(e.api())) return e.member() != null && e.member().matches(".* ép=(\\d+) → \\1");
        return "ShareFetch".equals(e.api()) && (e.share() == null || e.share().isEmpty());
    }

    public synchronized int size() { return entries.size(); }

    /** Forgets every entry; numbering goes on. */
    public synchronized void reset() { entries.clear(); }

    /** Called with each new or updated entry, on the proxy's thread: keep it short. */
    public void listen(Consumer<TraceEntry> listener) { listeners.add(listener); }

    public void unlisten(Consumer<TraceEntry> listener) { listeners.remove(listener); }
}
