package kit.faults;

import kit.faults.TraceEntry.Action;
import kit.faults.TraceEntry.ShareRange;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What the trace leaves out by default of a share group's traffic: the heartbeats that change nothing, the idle fetches. */
class TraceNoiseTest {

    @Test
    void shareGroupChatter_isLeftOut_joinsLeavesAcquisitionsAndFaultsAreShown() {
        Trace trace = new Trace();
        trace.add(share("ShareGroupHeartbeat", Action.FORWARDED, List.of(), "membre=m ép=0 → 3"));
        trace.add(share("ShareGroupHeartbeat", Action.FORWARDED, List.of(), "membre=m ép=3 → 3"));
        trace.add(share("ShareFetch", Action.FORWARDED, List.of(), "membre=m session=2"));
        trace.add(share("ShareFetch", Action.RESPONSE_DROPPED, List.of(), "membre=m session=3"));
        trace.add(share("ShareFetch", Action.FORWARDED, List.of(new ShareRange("t", 0, 0, 4, ShareRange.ACQUIRED, 1)), "membre=m session=4"));
        trace.add(share("ShareGroupHeartbeat", Action.FORWARDED, List.of(), "membre=m ép=-1 → -1"));
        assertEquals(List.of(1L, 4L, 5L, 6L), trace.since(0, false).stream().map(TraceEntry::seq).toList());
        assertEquals(6, trace.since(0, true).size());
    }

    private static TraceEntry share(String api, Action action, List<ShareRange> ranges, String member) {
        return new TraceEntry(0, 0, 1, "consumer-g-1", api, (short) 0, (short) 1, 0, action, List.of(), List.of(), null, "g", null, null,
                ranges, member);
    }
}
