package kit;

import java.util.Arrays;
import java.util.Optional;

/** The exercises of exercises/ (and their solutions/), recognised from the file name. */
public enum Exercise {
    PRODUCER_AT_MOST_ONCE("ProducerAtMostOnce", Scenarios.Semantic.PRODUCER_AT_MOST_ONCE),
    PRODUCER_AT_LEAST_ONCE("ProducerAtLeastOnce", Scenarios.Semantic.PRODUCER_AT_LEAST_ONCE),
    PRODUCER_EXACTLY_ONCE("ProducerExactlyOnce", Scenarios.Semantic.PRODUCER_EXACTLY_ONCE),
    CONSUMER_AT_MOST_ONCE("ConsumerAtMostOnce", Scenarios.Semantic.CONSUMER_AT_MOST_ONCE),
    CONSUMER_AT_LEAST_ONCE("ConsumerAtLeastOnce", Scenarios.Semantic.CONSUMER_AT_LEAST_ONCE),
    CONSUMER_EXACTLY_ONCE("ConsumerExactlyOnce", Scenarios.Semantic.CONSUMER_EXACTLY_ONCE),
    /** Two instances share a transactional.id: the old one must stop on ProducerFencedException. */
    ZOMBIE_FENCING("ZombieFencing", null),
    /** At-least-once delivery made idempotent: the consumer skips keys it has already processed, even after a crash. */
    DEDUP_CONSUMER("DedupConsumer", null);

    /** Class and file name (without .java). */
    public final String className;
    /** The semantic it implements, or null for the advanced exercises. */
    public final Scenarios.Semantic semantic;

    Exercise(String className, Scenarios.Semantic semantic) {
        this.className = className;
        this.semantic = semantic;
    }

    public String fileName() { return className + ".java"; }

    public static Optional<Exercise> byFileName(String fileName) {
        return Arrays.stream(values()).filter(e -> e.fileName().equals(fileName)).findFirst();
    }
}
