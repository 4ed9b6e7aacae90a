package kit.faults;

import java.util.List;

/**
 * One request that went through the lab, and what the lab did with it. Immutable: the response's details
 * (a Produce's base offsets, an error) come in later as a new entry with the same {@code seq}. {@code acks} is a
 * Produce request's acks (0, 1 or -1 for all; null for other APIs): with acks=0 the broker sends no response at all.
 * {@code share} are a share group's ranges (ShareFetch, ShareAcknowledge: see {@link ShareRange}) and {@code member}
 * a share group member's id and epoch (ShareGroupHeartbeat) or share session epoch (ShareFetch, ShareAcknowledge).
 */
public record TraceEntry(long seq, long epochMs, int node, String clientId, String api, short apiKey, short apiVersion,
                         int correlationId, Action action, List<PartitionData> partitions, List<OffsetData> offsets,
                         String transactionalId, String groupId, String error, Short acks, List<ShareRange> share, String member) {

    /** An entry without share group details. */
    public TraceEntry(long seq, long epochMs, int node, String clientId, String api, short apiKey, short apiVersion,
                      int correlationId, Action action, List<PartitionData> partitions, List<OffsetData> offsets,
                      String transactionalId, String groupId, String error, Short acks) {
        this(seq, epochMs, node, clientId, api, apiKey, apiVersion, correlationId, action, partitions, offsets,
                transactionalId, groupId, error, acks, List.of(), null);
    }

    /** An entry without acks (not a Produce, or not known). */
    public TraceEntry(long seq, long epochMs, int node, String clientId, String api, short apiKey, short apiVersion,
                      int correlationId, Action action, List<PartitionData> partitions, List<OffsetData> offsets,
                      String transactionalId, String groupId, String error) {
        this(seq, epochMs, node, clientId, api, apiKey, apiVersion, correlationId, action, partitions, offsets,
                transactionalId, groupId, error, null);
    }

    /** A Produce with acks=0: the broker answers nothing, the producer never knows whether it was written. */
    public boolean unanswered() { return acks != null && acks == 0; }

    /** What the lab did with the request. */
    public enum Action {
        FORWARDED("transmise"),
        REQUEST_DROPPED("requête perdue"),
        RESPONSE_DROPPED("réponse perdue"),
        DELAYED("retardée"),
        CUT("connexion coupée");

        public final String french;

        Action(String french) { this.french = french; }
    }

    /**
     * A partition named by the request. For Produce: how many records, the first batch's producer id, epoch and base
     * sequence (-1 when not idempotent), and, once the response is back, the base offset the broker gave (-1 unknown).
     */
    public record PartitionData(String topic, int partition, int records, long producerId, short producerEpoch, int baseSequence,
                                long baseOffset, String error) {
        public PartitionData withResponse(long baseOffset, String error) {
            return new PartitionData(topic, partition, records, producerId, producerEpoch, baseSequence, baseOffset, error);
        }
    }

    /** An offset a consumer (OffsetCommit) or a transaction (TxnOffsetCommit) asks the group to commit. */
    public record OffsetData(String topic, int partition, long offset) { }

    /**
     * A range of offsets of one partition in a share group's traffic. {@code kind} {@link #ACQUIRED}: records a ShareFetch
     * response lends to the member under the acquisition lock, {@code deliveryCount} being their delivery count (1 the
     * first time). Otherwise an acknowledgement a ShareAcknowledge or ShareFetch request carries for those offsets:
     * ACCEPT, RELEASE, REJECT, RENEW or GAP (offsets with no record, e.g. compacted away), {@code deliveryCount} -1.
     */
    public record ShareRange(String topic, int partition, long firstOffset, long lastOffset, String kind, int deliveryCount) {
        public static final String ACQUIRED = "ACQUIRED";

        public boolean acquired() { return ACQUIRED.equals(kind); }
    }

    public TraceEntry withAction(Action a) {
        return new TraceEntry(seq, epochMs, node, clientId, api, apiKey, apiVersion, correlationId, a, partitions, offsets,
                transactionalId, groupId, error, acks, share, member);
    }

    /** The same entry with another label for its transactional id (the epochs a response gave). */
    public TraceEntry withTransactionalId(String label) {
        return new TraceEntry(seq, epochMs, node, clientId, api, apiKey, apiVersion, correlationId, action, partitions, offsets,
                label, groupId, error, acks, share, member);
    }

    /** The same entry with the share ranges and member label a response added (acquired ranges, the epoch given). */
    public TraceEntry withShare(List<ShareRange> ranges, String memberLabel) {
        return new TraceEntry(seq, epochMs, node, clientId, api, apiKey, apiVersion, correlationId, action, partitions, offsets,
                transactionalId, groupId, error, acks, ranges, memberLabel);
    }

    public TraceEntry withResponse(List<PartitionData> answered, String responseError) {
        return new TraceEntry(seq, epochMs, node, clientId, api, apiKey, apiVersion, correlationId, action, answered, offsets,
                transactionalId, groupId, responseError, acks, share, member);
    }
}
