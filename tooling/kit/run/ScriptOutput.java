package kit.run;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What a script printed, read through the contract of docs/CONTRAT.md: record lines, the RESUME line, a simulated crash. */
public final class ScriptOutput {

    /**
     * One processed record, printed as {@code [topic pN@offset] value}; a share consumer's line also gives its delivery
     * count and acknowledgement ({@code deliveryCount} 0 and {@code ack} null on the other scripts' lines).
     */
    public record Record(String topic, int partition, long offset, String value, int deliveryCount, String ack) {
        public Record(String topic, int partition, long offset, String value) {
            this(topic, partition, offset, value, 0, null);
        }
    }

    /**
     * A record line; a share consumer adds, in parentheses, the record's delivery count and its acknowledgement:
     * {@code [topic pN@offset] value (livraison 2, ACCEPT)}.
     */
    private static final Pattern RECORD = Pattern.compile("^\\[(\\S+) p(\\d+)@(\\d+)\\] (\\S+)(?: \\(livraison (\\d+), ([A-Z]+)\\))?\\s*$");

    private final List<Record> records;
    private final Map<String, String> summary;
    private final boolean crashed;

    private ScriptOutput(List<Record> records, Map<String, String> summary, boolean crashed) {
        this.records = records;
        this.summary = summary;
        this.crashed = crashed;
    }

    public static ScriptOutput parse(String stdout) {
        List<Record> records = new ArrayList<>();
        Map<String, String> summary = new LinkedHashMap<>();
        boolean crashed = false;
        for (String line : stdout.split("\\R")) {
            Matcher m = RECORD.matcher(line);
            if (m.matches()) {
                records.add(new Record(m.group(1), Integer.parseInt(m.group(2)), Long.parseLong(m.group(3)), m.group(4),
                        m.group(5) == null ? 0 : Integer.parseInt(m.group(5)), m.group(6)));
            } else if (line.startsWith("RESUME ")) {
                summary.clear();
                for (String pair : line.substring("RESUME ".length()).trim().split("\\s+")) {
                    int eq = pair.indexOf('=');
                    if (eq > 0) summary.put(pair.substring(0, eq), pair.substring(eq + 1));
                }
            } else if (line.startsWith("CRASH simulé")) {
                crashed = true;
            }
        }
        return new ScriptOutput(Collections.unmodifiableList(records), Collections.unmodifiableMap(summary), crashed);
    }

    public List<Record> records() { return records; }

    public List<String> values() { return records.stream().map(Record::value).toList(); }

    /** The RESUME line's pairs; empty if the script printed none (it crashed, or broke the contract). */
    public Map<String, String> summary() { return summary; }

    public boolean hasSummary() { return !summary.isEmpty(); }

    public boolean crashed() { return crashed; }

    public int summaryInt(String key) {
        String v = summary.get(key);
        if (v == null) throw new IllegalStateException("pas de clé « " + key + " » dans la ligne RESUME");
        return Integer.parseInt(v);
    }

    /** A comma-separated list from the RESUME line ({@code failedSeqs}, {@code abortedSeqs}); empty if absent or blank. */
    public List<Long> summaryLongs(String key) {
        String v = summary.getOrDefault(key, "");
        if (v.isBlank()) return List.of();
        return Arrays.stream(v.split(",")).filter(s -> !s.isBlank()).map(Long::parseLong).toList();
    }
}
