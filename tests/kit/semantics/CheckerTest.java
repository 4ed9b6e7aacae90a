package kit.semantics;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The loss/duplicate checker counts each anomaly class, and only it. */
class CheckerTest {

    @Test
    void everythingReadOnce_isClean() {
        Checker.Report r = Checker.check(List.of("a", "b"), List.of(new Checker.ReadValue("a", 0), new Checker.ReadValue("b", 1)), List.of());
        assertTrue(r.clean(), r.describe());
        assertEquals("ni perte ni doublon (2 lus sur 2 attendus)", r.describe());
    }

    @Test
    void acknowledgedButNeverRead_isLost() {
        Checker.Report r = Checker.check(List.of("a", "b", "c"), List.of(new Checker.ReadValue("a", 0)), List.of());
        assertEquals(2, r.lost());
        assertEquals(List.of("b", "c"), r.lostValues());
        assertEquals("2 messages perdus (b, c)", r.describe());
    }

    @Test
    void sameValueAtTwoOffsets_isOneDuplicate_butTheSameRecordReadTwiceIsNot() {
        Checker.Report r = Checker.check(List.of("a"), List.of(new Checker.ReadValue("a", 0), new Checker.ReadValue("a", 3),
                new Checker.ReadValue("a", 3)), List.of());
        assertEquals(1, r.duplicated(), r.describe());
        assertEquals(0, r.lost());
    }

    @Test
    void abortedValueSeen_isAnAbortedRead() {
        Checker.Report r = Checker.check(List.of("a"), List.of(new Checker.ReadValue("a", 0), new Checker.ReadValue("x", 1)), List.of("x", "y"));
        assertEquals(1, r.abortedRead());
        assertEquals(List.of("x"), r.abortedReadValues());
    }

    @Test
    void processing_twiceIsDuplicate_neverIsLost() {
        Checker.Report r = Checker.checkProcessing(List.of("1", "2", "3", "4"), List.of("1", "2", "2", "4"));
        assertEquals(1, r.lost());
        assertEquals(1, r.duplicated());
        assertEquals("1 message perdu (3), 1 doublon (2)", r.describe());
    }
}
