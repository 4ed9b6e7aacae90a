package kit.faults;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.AddOffsetsToTxnRequestData;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.EndTxnRequestData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.ShareAcknowledgeRequestData;
import org.apache.kafka.common.message.ShareFetchRequestData;
import org.apache.kafka.common.message.ShareFetchResponseData;
import org.apache.kafka.common.message.ShareGroupHeartbeatRequestData;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.EndTxnResponse;
import org.apache.kafka.common.requests.InitProducerIdResponse;
import org.apache.kafka.common.requests.MetadataResponse;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.ShareFetchResponse;
import org.apache.kafka.common.requests.ShareGroupHeartbeatResponse;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads Kafka's protocol with Kafka's own classes (kafka-clients), for the trace: who sent what, to which partitions,
 * with which producer id and sequence, and what came back. Only the requests a lesson is about are parsed in full.
 */
final class KafkaWire {

    /** Requests whose body (and response) the trace describes; the others are traced by header only. */
    private static final Set<ApiKeys> DESCRIBED = Set.of(ApiKeys.PRODUCE, ApiKeys.OFFSET_COMMIT, ApiKeys.TXN_OFFSET_COMMIT,
            ApiKeys.INIT_PRODUCER_ID, ApiKeys.ADD_PARTITIONS_TO_TXN, ApiKeys.ADD_OFFSETS_TO_TXN, ApiKeys.END_TXN,
            ApiKeys.FIND_COORDINATOR, ApiKeys.SHARE_GROUP_HEARTBEAT, ApiKeys.SHARE_FETCH, ApiKeys.SHARE_ACKNOWLEDGE);

    /** Recent Produce and OffsetCommit versions name topics by id: the names come from Metadata responses. */
    private final Map<Uuid, String> topicNames = new ConcurrentHashMap<>();

    /** A parsed request: its header, the trace entry it makes (seq 0), and whether a response will come back. */
    record Request(RequestHeader header, TraceEntry entry, boolean expectsResponse) { }

    /** Parses a request frame (size prefix removed); null if it isn't a request this version of Kafka knows. */
    Request request(byte[] frame, int node) {
        ByteBuffer buffer = ByteBuffer.wrap(frame);
        RequestHeader header;
        try {
            header = RequestHeader.parse(buffer);
        } catch (RuntimeException unknown) {
            return null;
        }
        ApiKeys api = header.apiKey();
        List<TraceEntry.PartitionData> partitions = List.of();
        List<TraceEntry.OffsetData> offsets = List.of();
        String txId = null;
        String group = null;
        boolean expectsResponse = true;
        Short acks = null;
        List<TraceEntry.ShareRange> share = new ArrayList<>();
        String member = null;
        if (DESCRIBED.contains(api)) {
            try {
                AbstractRequest body = AbstractRequest.parseRequest(api, header.apiVersion(), new ByteBufferAccessor(buffer)).request;
                switch (api) {
                    case PRODUCE -> {
                        ProduceRequest p = (ProduceRequest) body;
                        acks = p.acks();
                        expectsResponse = acks != 0;
                        txId = p.transactionalId();
                        partitions = produced(p);
                    }
                    case OFFSET_COMMIT -> {
                        OffsetCommitRequestData d = (OffsetCommitRequestData) body.data();
                        group = d.groupId();
                        List<TraceEntry.OffsetData> o = new ArrayList<>();
                        for (var t : d.topics()) for (var x : t.partitions()) o.add(new TraceEntry.OffsetData(name(t.name(), t.topicId()), x.partitionIndex(), x.committedOffset()));
                        offsets = o;
                    }
                    case TXN_OFFSET_COMMIT -> {
                        TxnOffsetCommitRequestData d = (TxnOffsetCommitRequestData) body.data();
                        txId = d.transactionalId();
                        group = d.groupId();
                        List<TraceEntry.OffsetData> o = new ArrayList<>();
                        for (var t : d.topics()) for (var x : t.partitions()) o.add(new TraceEntry.OffsetData(name(t.name(), t.topicId()), x.partitionIndex(), x.committedOffset()));
                        offsets = o;
                    }
                    case INIT_PRODUCER_ID -> txId = ((InitProducerIdRequestData) body.data()).transactionalId();
                    case ADD_PARTITIONS_TO_TXN -> {
                        AddPartitionsToTxnRequestData d = (AddPartitionsToTxnRequestData) body.data();
                        txId = d.v3AndBelowTransactionalId();
                        if ((txId == null || txId.isEmpty()) && !d.transactions().isEmpty()) txId = d.transactions().iterator().next().transactionalId();
                    }
                    case ADD_OFFSETS_TO_TXN -> {
                        AddOffsetsToTxnRequestData d = (AddOffsetsToTxnRequestData) body.data();
                        txId = d.transactionalId();
                        group = d.groupId();
                    }
                    case END_TXN -> {
                        EndTxnRequestData d = (EndTxnRequestData) body.data();
                        // the decision and the producer's epoch travel in the transactional id's label: commit or abort;
                        // the response adds the epoch the coordinator gives back (see response())
                        txId = d.transactionalId() + (d.committed() ? " (commit" : " (abort") + ", ép=" + d.producerEpoch() + ")";
                    }
                    case FIND_COORDINATOR -> {
                        FindCoordinatorRequestData d = (FindCoordinatorRequestData) body.data();
                        String key = !d.coordinatorKeys().isEmpty() ? String.join(",", d.coordinatorKeys()) : d.key();
                        if (d.keyType() == 1) txId = key; else group = key;
                    }
                    case SHARE_GROUP_HEARTBEAT -> {
                        ShareGroupHeartbeatRequestData d = (ShareGroupHeartbeatRequestData) body.data();
                        group = d.groupId();
                        // epoch 0 joins, -1 leaves; the response gives the epoch the coordinator settled on
                        member = "membre=" + d.memberId() + " ép=" + d.memberEpoch();
                    }
                    case SHARE_FETCH -> {
                        // a ShareFetch also carries the acknowledgements of what the previous one acquired
                        ShareFetchRequestData d = (ShareFetchRequestData) body.data();
                        group = d.groupId();
                        member = "membre=" + d.memberId() + " session=" + d.shareSessionEpoch();
                        for (var t : d.topics()) for (var x : t.partitions()) for (var b : x.acknowledgementBatches())
                            acknowledged(share, name(null, t.topicId()), x.partitionIndex(), b.firstOffset(), b.lastOffset(), b.acknowledgeTypes());
                    }
                    case SHARE_ACKNOWLEDGE -> {
                        // the acknowledgements sent on their own (commitSync, or no fetch due): the same batches
                        ShareAcknowledgeRequestData d = (ShareAcknowledgeRequestData) body.data();
                        group = d.groupId();
                        member = "membre=" + d.memberId() + " session=" + d.shareSessionEpoch();
                        for (var t : d.topics()) for (var x : t.partitions()) for (var b : x.acknowledgementBatches())
                            acknowledged(share, name(null, t.topicId()), x.partitionIndex(), b.firstOffset(), b.lastOffset(), b.acknowledgeTypes());
                    }
                    default -> { }
                }
            } catch (RuntimeException unreadable) {
                // traced by its header alone
            }
        }
        TraceEntry entry = new TraceEntry(0, System.currentTimeMillis(), node, header.clientId(), api.name, api.id, header.apiVersion(),
                header.correlationId(), TraceEntry.Action.FORWARDED, partitions, offsets, txId, group, null, acks, share, member);
        return new Request(header, entry, expectsResponse);
    }

    /** The entry completed with what the response says: base offsets for Produce, the first error for any API. */
    TraceEntry response(byte[] frame, Request request) {
        ApiKeys api = request.header().apiKey();
        if (!DESCRIBED.contains(api) && api != ApiKeys.METADATA) return request.entry();
        try {
            AbstractResponse response = AbstractResponse.parseResponse(ByteBuffer.wrap(frame), request.header());
            if (response instanceof MetadataResponse m) {
                learnTopics(m.data());
                return request.entry();
            }
            String error = response.errorCounts().keySet().stream().filter(e -> e != Errors.NONE).map(Errors::name).findFirst().orElse(null);
            List<TraceEntry.PartitionData> partitions = request.entry().partitions();
            if (response instanceof ProduceResponse p) partitions = answered(partitions, p.data());
            TraceEntry answered = request.entry().withResponse(partitions, error)
                    .withTransactionalId(epochs(request.entry().transactionalId(), response));
            if (response instanceof ShareFetchResponse f) answered = answered.withShare(acquired(answered.share(), f.data()), answered.member());
            if (response instanceof ShareGroupHeartbeatResponse h && h.data().errorCode() == Errors.NONE.code() && answered.member() != null)
                answered = answered.withShare(answered.share(), answered.member() + " → " + h.data().memberEpoch());
            return answered;
        } catch (RuntimeException unreadable) {
            return request.entry();
        }
    }

    /**
     * The transactional id's label with the epoch the coordinator answered: InitProducerId gives the producer its id
     * and epoch (a new instance gets a higher epoch than any before it: that fences them); with transactions v2
     * (KIP-890, Kafka 4's default) EndTxn's response gives the epoch bumped at each commit or abort (« ép=3 → 4 »).
     */
    private static String epochs(String label, AbstractResponse response) {
        if (label == null) return null;
        if (response instanceof InitProducerIdResponse r && r.data().errorCode() == Errors.NONE.code()) {
            return label + " → pid=" + r.data().producerId() + " ép=" + r.data().producerEpoch();
        }
        if (response instanceof EndTxnResponse r && r.data().errorCode() == Errors.NONE.code() && r.data().producerEpoch() >= 0
                && label.endsWith(")")) {
            return label.substring(0, label.length() - 1) + " → " + r.data().producerEpoch() + ")";
        }
        return label;
    }

    /**
     * One acknowledgement batch as ranges of one type each: a batch gives either one type for all its offsets or one
     * type per offset (Kafka's AcknowledgeType ids: 1 ACCEPT, 2 RELEASE, 3 REJECT, 4 RENEW; 0 is a gap, no record there).
     */
    private static void acknowledged(List<TraceEntry.ShareRange> out, String topic, int partition, long first, long last, List<Byte> types) {
        if (types.isEmpty()) return;
        if (types.size() == 1) {
            out.add(new TraceEntry.ShareRange(topic, partition, first, last, ackName(types.get(0)), -1));
            return;
        }
        long start = first;
        for (int i = 1; i <= types.size(); i++) {
            if (i == types.size() || !types.get(i).equals(types.get(i - 1))) {
                out.add(new TraceEntry.ShareRange(topic, partition, start, first + i - 1, ackName(types.get(i - 1)), -1));
                start = first + i;
            }
        }
    }

    private static String ackName(byte id) {
        if (id == 0) return "GAP";
        try {
            return AcknowledgeType.forId(id).name();
        } catch (IllegalArgumentException unknown) {
            return "type " + id;
        }
    }

    /** The acknowledgements a ShareFetch carried, then the ranges its response acquired, with their delivery counts. */
    private List<TraceEntry.ShareRange> acquired(List<TraceEntry.ShareRange> sent, ShareFetchResponseData data) {
        List<TraceEntry.ShareRange> out = new ArrayList<>(sent);
        for (var t : data.responses()) {
            String topic = name(null, t.topicId());
            for (var p : t.partitions()) for (var a : p.acquiredRecords())
                out.add(new TraceEntry.ShareRange(topic, p.partitionIndex(), a.firstOffset(), a.lastOffset(), TraceEntry.ShareRange.ACQUIRED, a.deliveryCount()));
        }
        return out;
    }

    private List<TraceEntry.PartitionData> produced(ProduceRequest p) {
        List<TraceEntry.PartitionData> out = new ArrayList<>();
        for (var topic : p.data().topicData()) {
            String name = name(topic.name(), topic.topicId());
            for (var part : topic.partitionData()) {
                int records = 0;
                long pid = -1;
                short epoch = -1;
                int sequence = -1;
                if (part.records() instanceof MemoryRecords mr) {
                    boolean first = true;
                    for (RecordBatch b : mr.batches()) {
                        records += (int) (b.lastOffset() - b.baseOffset() + 1);
                        if (first) {
                            pid = b.producerId();
                            epoch = b.producerEpoch();
                            sequence = b.baseSequence();
                            first = false;
                        }
                    }
                }
                out.add(new TraceEntry.PartitionData(name, part.index(), records, pid, epoch, sequence, -1, null));
            }
        }
        return out;
    }

    private List<TraceEntry.PartitionData> answered(List<TraceEntry.PartitionData> sent, ProduceResponseData data) {
        List<TraceEntry.PartitionData> out = new ArrayList<>();
        for (TraceEntry.PartitionData s : sent) {
            TraceEntry.PartitionData done = s;
            for (var t : data.responses()) {
                if (!name(t.name(), t.topicId()).equals(s.topic())) continue;
                for (var pr : t.partitionResponses()) {
                    if (pr.index() != s.partition()) continue;
                    Errors e = Errors.forCode(pr.errorCode());
                    done = s.withResponse(pr.baseOffset(), e == Errors.NONE ? null : e.name());
                }
            }
            out.add(done);
        }
        return out;
    }

    private void learnTopics(MetadataResponseData data) {
        for (var t : data.topics()) {
            if (t.name() != null && t.topicId() != null && !Uuid.ZERO_UUID.equals(t.topicId())) topicNames.put(t.topicId(), t.name());
        }
    }

    private String name(String name, Uuid id) {
        if (name != null && !name.isEmpty()) return name;
        if (id == null || Uuid.ZERO_UUID.equals(id)) return "?";
        return topicNames.getOrDefault(id, id.toString());
    }
}
