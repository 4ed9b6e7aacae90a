package kit.semantics;

/**
 * What one run under a fault says of a semantic: does it keep its guarantee, does it show the weakness the course
 * announces, and must that weakness show for the run to count (a lost response must duplicate an at-least-once
 * producer; a leader failure only may)?
 */
public record Verdict(boolean keepsGuarantee, boolean showsWeakness, boolean weaknessRequired) {

    public static Verdict of(Semantic s, Checker.Report report, boolean weaknessRequired) {
        return new Verdict(!s.violates(report), s.showsItsWeakness(report), weaknessRequired);
    }

    /** The guarantee holds, and the weakness shows wherever it must. */
    public boolean passed() { return keepsGuarantee && (showsWeakness || !weaknessRequired); }
}
