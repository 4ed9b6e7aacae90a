package kit.grade;

import kit.semantics.Semantic;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** The exercises of exercises/ (and their solutions/), recognised from the file name. */
public enum Exercise {
    PRODUCER_AT_MOST_ONCE("ProducerAtMostOnce", Semantic.PRODUCER_AT_MOST_ONCE, 4),
    PRODUCER_AT_LEAST_ONCE("ProducerAtLeastOnce", Semantic.PRODUCER_AT_LEAST_ONCE, 4),
    PRODUCER_EXACTLY_ONCE("ProducerExactlyOnce", Semantic.PRODUCER_EXACTLY_ONCE, 13),
    CONSUMER_AT_MOST_ONCE("ConsumerAtMostOnce", Semantic.CONSUMER_AT_MOST_ONCE, 14),
    CONSUMER_AT_LEAST_ONCE("ConsumerAtLeastOnce", Semantic.CONSUMER_AT_LEAST_ONCE, 14),
    CONSUMER_EXACTLY_ONCE("ConsumerExactlyOnce", Semantic.CONSUMER_EXACTLY_ONCE, 17),
    /** Two instances share a transactional.id: the old one must stop on ProducerFencedException. */
    ZOMBIE_FENCING("ZombieFencing", null, 6),
    /** At-least-once delivery made idempotent: one effect per message id (effect and id in one journal line), even after a crash. */
    DEDUP_CONSUMER("DedupConsumer", null, 6),
    /** A share group's worker (KIP-932): acknowledge after processing, reject a poison record, never rely on order. */
    SHARE_WORKER("ShareWorker", null, 12),
    /** Into PostgreSQL, exactly once: the rows and the next offsets in one SQL transaction, a seek on assignment (docs/BASE.md). */
    CONSUMER_DB_EXACTLY_ONCE("ConsumerDbExactlyOnce", null, 15);

    /** Class and file name (without .java). */
    public final String className;
    /** The semantic it implements, or null for the advanced exercises. */
    public final Semantic semantic;
    /**
     * About how many seconds grading a correct program takes (a solution, 2 free cores, --jobs 4): the grader starts the
     * longest first, each on the next free broker, so that the last to finish are short ones.
     */
    public final int seconds;

    Exercise(String className, Semantic semantic, int seconds) {
        this.className = className;
        this.semantic = semantic;
        this.seconds = seconds;
    }

    public String fileName() { return className + ".java"; }

    /** Does grading it need a PostgreSQL (a database of the job's own)? */
    public boolean needsDatabase() { return this == CONSUMER_DB_EXACTLY_ONCE; }

    /** The default assignment: every exercise with a file in the kit's exercises/ (all of them if that folder is absent). */
    public static List<Exercise> assignedByDefault() {
        Path dir;
        try {
            dir = kit.run.ScriptRunner.root().resolve("exercises");
        } catch (IllegalStateException e) {
            return List.of(values());
        }
        if (!Files.isDirectory(dir)) return List.of(values());
        List<Exercise> out = Arrays.stream(values()).filter(e -> Files.isRegularFile(dir.resolve(e.fileName()))).toList();
        return out.isEmpty() ? List.of(values()) : out;
    }

    public static Optional<Exercise> byFileName(String fileName) {
        return Arrays.stream(values()).filter(e -> e.fileName().equals(fileName)).findFirst();
    }
}
