package kit.grade;

import kit.semantics.Semantic;

import java.util.Arrays;
import java.util.Optional;

/** The exercises of exercises/ (and their solutions/), recognised from the file name. */
public enum Exercise {
    PRODUCER_AT_MOST_ONCE("ProducerAtMostOnce", Semantic.PRODUCER_AT_MOST_ONCE, 2),
    PRODUCER_AT_LEAST_ONCE("ProducerAtLeastOnce", Semantic.PRODUCER_AT_LEAST_ONCE, 2),
    PRODUCER_EXACTLY_ONCE("ProducerExactlyOnce", Semantic.PRODUCER_EXACTLY_ONCE, 5),
    CONSUMER_AT_MOST_ONCE("ConsumerAtMostOnce", Semantic.CONSUMER_AT_MOST_ONCE, 4),
    CONSUMER_AT_LEAST_ONCE("ConsumerAtLeastOnce", Semantic.CONSUMER_AT_LEAST_ONCE, 4),
    CONSUMER_EXACTLY_ONCE("ConsumerExactlyOnce", Semantic.CONSUMER_EXACTLY_ONCE, 6),
    /** Two instances share a transactional.id: the old one must stop on ProducerFencedException. */
    ZOMBIE_FENCING("ZombieFencing", null, 2),
    /** At-least-once delivery made idempotent: the consumer skips keys it has already processed, even after a crash. */
    DEDUP_CONSUMER("DedupConsumer", null, 4);

    /** Class and file name (without .java). */
    public final String className;
    /** The semantic it implements, or null for the advanced exercises. */
    public final Semantic semantic;
    /** How many times the grader runs it (its cost): the longest are graded first, so none is left alone at the end. */
    public final int runs;

    Exercise(String className, Semantic semantic, int runs) {
        this.className = className;
        this.semantic = semantic;
        this.runs = runs;
    }

    public String fileName() { return className + ".java"; }

    public static Optional<Exercise> byFileName(String fileName) {
        return Arrays.stream(values()).filter(e -> e.fileName().equals(fileName)).findFirst();
    }
}
