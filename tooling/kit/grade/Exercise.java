package kit.grade;

import kit.semantics.Semantic;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** The exercises of exercises/ (and their solutions/), recognised from the file name. */
public enum Exercise {
    PRODUCER_AT_MOST_ONCE("ProducerAtMostOnce", Semantic.PRODUCER_AT_MOST_ONCE, 2),
    PRODUCER_AT_LEAST_ONCE("ProducerAtLeastOnce", Semantic.PRODUCER_AT_LEAST_ONCE, 2),
    PRODUCER_EXACTLY_ONCE("ProducerExactlyOnce", Semantic.PRODUCER_EXACTLY_ONCE, 4),
    CONSUMER_AT_MOST_ONCE("ConsumerAtMostOnce", Semantic.CONSUMER_AT_MOST_ONCE, 3),
    CONSUMER_AT_LEAST_ONCE("ConsumerAtLeastOnce", Semantic.CONSUMER_AT_LEAST_ONCE, 3),
    CONSUMER_EXACTLY_ONCE("ConsumerExactlyOnce", Semantic.CONSUMER_EXACTLY_ONCE, 5),
    /** Two instances share a transactional.id: the old one must stop on ProducerFencedException. */
    ZOMBIE_FENCING("ZombieFencing", null, 2),
    /** At-least-once delivery made idempotent: one effect per message id (effect and id in one journal line), even after a crash. */
    DEDUP_CONSUMER("DedupConsumer", null, 2),
    /** A share group's worker (KIP-932): acknowledge after processing, reject a poison record, never rely on order. */
    SHARE_WORKER("ShareWorker", null, 2),
    /** Into PostgreSQL, exactly once: the rows and the next offsets in one SQL transaction, a seek on assignment (docs/BASE.md). */
    CONSUMER_DB_EXACTLY_ONCE("ConsumerDbExactlyOnce", null, 2);

    /** Class and file name (without .java). */
    public final String className;
    /** The semantic it implements, or null for the advanced exercises. */
    public final Semantic semantic;
    /** How many times the grader runs it, with a correct program (its cost): the longest are graded first, so none is left alone at the end. */
    public final int runs;

    Exercise(String className, Semantic semantic, int runs) {
        this.className = className;
        this.semantic = semantic;
        this.runs = runs;
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
