package kit.semantics;

import kit.faults.FaultPlan;

import java.util.EnumMap;
import java.util.Map;

/** The six semantics of the course: their script, the fault that tells them apart, what they claim, and the verdicts. */
public enum Semantic {
    PRODUCER_AT_MOST_ONCE("producer-at-most-once", "producteur at-most-once", "ProducerAtMostOnce", FaultPlan.Fault.LOSE_REQUEST,
            "aucun doublon", "acks=0, retries=0 : le broker ne confirme rien et personne ne renvoie la requête perdue → perte."),
    PRODUCER_AT_LEAST_ONCE("producer-at-least-once", "producteur at-least-once", "ProducerAtLeastOnce", FaultPlan.Fault.LOSE_RESPONSE,
            "aucune perte", "acks=all + retries sans idempotence : la réponse perdue fait réessayer un lot déjà écrit → doublon."),
    PRODUCER_EXACTLY_ONCE("producer-exactly-once", "producteur exactly-once", "ProducerExactlyOnce", FaultPlan.Fault.LOSE_RESPONSE,
            "ni perte ni doublon", "idempotence : le réessai porte le même numéro de séquence, le broker l'écarte → ni perte ni doublon."),
    CONSUMER_AT_MOST_ONCE("consumer-at-most-once", "consommateur at-most-once", "ConsumerAtMostOnce", null,
            "aucun doublon", "commit avant traitement : après le crash, l'offset validé saute le message jamais traité → perte."),
    CONSUMER_AT_LEAST_ONCE("consumer-at-least-once", "consommateur at-least-once", "ConsumerAtLeastOnce", null,
            "aucune perte", "traitement avant commit : l'offset non validé fait relire le message déjà traité → doublon."),
    CONSUMER_EXACTLY_ONCE("consumer-exactly-once", "consommateur exactly-once", "ConsumerExactlyOnce", null,
            "ni perte ni doublon", "sortie et offsets dans la même transaction : la relance avorte celle du crash → la sortie (read_committed) n'a ni perte ni doublon.");

    public final String id;
    public final String french;
    public final String script;
    public final FaultPlan.Fault fault;
    public final String claim;
    public final String explanation;

    Semantic(String id, String french, String script, FaultPlan.Fault fault, String claim, String explanation) {
        this.id = id; this.french = french; this.script = script; this.fault = fault; this.claim = claim; this.explanation = explanation;
    }

    public boolean producer() { return fault != null; }

    public static Semantic byId(String id) {
        for (Semantic s : values()) if (s.id.equals(id)) return s;
        return null;
    }

    /** Does the report violate what this semantic claims? */
    public boolean violates(Checker.Report r) {
        return switch (this) {
            case PRODUCER_AT_MOST_ONCE, CONSUMER_AT_MOST_ONCE -> r.duplicated() > 0;
            case PRODUCER_AT_LEAST_ONCE, CONSUMER_AT_LEAST_ONCE -> r.lost() > 0;
            default -> !r.clean();
        };
    }

    /** Does the report show the weakness the course announces (a loss, a duplicate, or nothing at all)? */
    public boolean showsItsWeakness(Checker.Report r) {
        return switch (this) {
            case PRODUCER_AT_MOST_ONCE, CONSUMER_AT_MOST_ONCE -> r.lost() > 0;
            case PRODUCER_AT_LEAST_ONCE, CONSUMER_AT_LEAST_ONCE -> r.duplicated() > 0;
            default -> r.clean();
        };
    }

    /** What the course says of each producer when the partition leader dies mid-stream ("sauf crash total … avant réplication"). */
    public static final Map<Semantic, String> LEADER_FAILURE = new EnumMap<>(Map.of(
            Semantic.PRODUCER_AT_MOST_ONCE, "acks=0 : ce que l'ancien leader avait reçu sans l'écrire ni le répliquer disparaît avec lui, "
                    + "et le producteur n'en sait rien → perte possible.",
            Semantic.PRODUCER_AT_LEAST_ONCE, "acks=all + min.insync.replicas=2 : un lot n'est acquitté qu'une fois répliqué, le nouveau "
                    + "leader l'a donc → aucune perte (un réessai peut doubler).",
            Semantic.PRODUCER_EXACTLY_ONCE, "acks=all + idempotence : les réessais vers le nouveau leader gardent leur numéro de séquence "
                    + "→ ni perte ni doublon."));
}
