package kit.semantics;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Counts what a run lost and duplicated, from what was claimed delivered and what was read back.
 * The anomaly classes are Jepsen's for Kafka: lost, duplicated, and (for transactions) aborted read.
 */
public final class Checker {

    /** A value read back from a topic, at its offset. */
    public record ReadValue(String value, long offset) { }

    /** The verdict on one run. Values are listed so that a student can see which ones. */
    public record Report(int expected, int read, int lost, int duplicated, int abortedRead,
                         List<String> lostValues, List<String> duplicatedValues, List<String> abortedReadValues) {

        public boolean clean() { return lost == 0 && duplicated == 0 && abortedRead == 0; }

        /** "2 messages perdus (k-5, k-6), 1 doublon (k-3)" — or "ni perte ni doublon". */
        public String describe() {
            List<String> parts = new ArrayList<>();
            if (lost > 0) parts.add(plural(lost, "message perdu", "messages perdus") + list(lostValues));
            if (duplicated > 0) parts.add(plural(duplicated, "doublon", "doublons") + list(duplicatedValues));
            if (abortedRead > 0) parts.add(plural(abortedRead, "message avorté lu", "messages avortés lus") + list(abortedReadValues));
            return parts.isEmpty() ? "ni perte ni doublon (" + read + " lus sur " + expected + " attendus)" : String.join(", ", parts);
        }

        private static String plural(int n, String one, String many) { return n + " " + (n > 1 ? many : one); }

        private static String list(List<String> values) {
            if (values.isEmpty()) return "";
            List<String> shown = values.size() > 5 ? values.subList(0, 5) : values;
            return " (" + String.join(", ", shown) + (values.size() > 5 ? ", …" : "") + ")";
        }
    }

    private Checker() { }

    /**
     * Producer side. {@code expected}: values acknowledged (or sent with acks=0); {@code read}: the topic read back;
     * {@code aborted}: values of transactions aborted on purpose, which read_committed must never show.
     * A value at more than one offset is a duplicate: the broker wrote it twice.
     */
    public static Report check(Collection<String> expected, List<ReadValue> read, Collection<String> aborted) {
        Map<String, Set<Long>> offsets = new LinkedHashMap<>();
        for (ReadValue r : read) offsets.computeIfAbsent(r.value(), v -> new HashSet<>()).add(r.offset());
        List<String> lost = expected.stream().distinct().filter(v -> !offsets.containsKey(v)).toList();
        List<String> duplicated = new ArrayList<>();
        offsets.forEach((value, at) -> { for (int i = 1; i < at.size(); i++) duplicated.add(value); });
        Set<String> abortedSet = new HashSet<>(aborted);
        List<String> abortedRead = offsets.keySet().stream().filter(abortedSet::contains).toList();
        return new Report(new LinkedHashSet<>(expected).size(), read.size(), lost.size(), duplicated.size(), abortedRead.size(),
                lost, duplicated, abortedRead);
    }

    /** Consumer side: every input value processed once? Processed twice is a duplicate, never processed is lost. */
    public static Report checkProcessing(Collection<String> input, List<String> processed) {
        return checkProcessing(input, processed, List.of());
    }

    /** As above, and {@code aborted}: input values of an aborted transaction, which read_committed never delivers. */
    public static Report checkProcessing(Collection<String> input, List<String> processed, Collection<String> aborted) {
        Map<String, Integer> times = new LinkedHashMap<>();
        for (String v : processed) times.merge(v, 1, Integer::sum);
        List<String> lost = input.stream().distinct().filter(v -> !times.containsKey(v)).toList();
        List<String> duplicated = new ArrayList<>();
        times.forEach((value, n) -> { for (int i = 1; i < n; i++) duplicated.add(value); });
        Set<String> abortedSet = new HashSet<>(aborted);
        List<String> abortedRead = times.keySet().stream().filter(abortedSet::contains).toList();
        return new Report(new LinkedHashSet<>(input).size(), processed.size(), lost.size(), duplicated.size(), abortedRead.size(),
                lost, duplicated, abortedRead);
    }
}
