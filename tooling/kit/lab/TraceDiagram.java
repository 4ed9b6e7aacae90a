package kit.lab;

//DEPS net.sourceforge.plantuml:plantuml:1.2025.10

import kit.faults.Trace;
import kit.faults.TraceEntry;

import net.sourceforge.plantuml.BlockUml;
import net.sourceforge.plantuml.FileFormat;
import net.sourceforge.plantuml.FileFormatOption;
import net.sourceforge.plantuml.SourceStringReader;
import net.sourceforge.plantuml.core.Diagram;
import net.sourceforge.plantuml.error.PSystemError;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The lab's trace as an SVG sequence diagram, drawn by PlantUML (sequence diagrams need no Graphviz): one participant
 * per client id, then one per broker node; for each request an arrow client → node with the API and its details, and the
 * answer node → client. A lost request or answer is a red lost message (✘), a delay a note, a cut a separator; a Produce
 * sent with acks=0 has no answer arrow but a note « sans réponse (acks=0) ».
 *
 * <p>Every text that comes from the network (client ids, topics, transactional ids, errors) is escaped character by
 * character, so it is drawn as it is and can neither break the PlantUML source nor reach PlantUML's preprocessor, its
 * Creole markup, links or images. PlantUML runs in its SANDBOX security profile (no file, no network) and headless.
 */
public final class TraceDiagram {

    /** How many requests a diagram draws by default: the last ones. */
    public static final int DEFAULT_MAX = 80;
    /** Longest text taken from an entry (a client id, a topic, an error), in characters; twice that for the title. */
    private static final int MAX_TEXT = 60;
    /** Partitions or offsets named on one arrow; the others are counted. */
    private static final int MAX_ITEMS = 3;

    static {
        // set before PlantUML's first use; the user's own settings win
        if (System.getProperty("PLANTUML_SECURITY_PROFILE") == null) System.setProperty("PLANTUML_SECURITY_PROFILE", "SANDBOX");
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    private TraceDiagram() { }

    /** Sequence diagram of these entries (at most the last {@value #DEFAULT_MAX} of them), labels in French. */
    public static String svg(List<TraceEntry> entries, String title) {
        return svg(entries, title, DEFAULT_MAX);
    }

    /**
     * Sequence diagram of these entries, at most the last {@code max} of them (the title says when some were left out).
     * One entry per request: when the list holds several versions of a request (same {@code seq}, the later one with the
     * answer), the last version is drawn where the first one was.
     */
    public static String svg(List<TraceEntry> entries, String title, int max) {
        return render(plantUml(entries, title, max));
    }

    /** The PlantUML source of {@link #svg(List, String, int)}. */
    static String plantUml(List<TraceEntry> entries, String title, int max) {
        if (max < 1) throw new IllegalArgumentException("max doit être ≥ 1 : " + max);
        List<TraceEntry> all = latestVersions(entries == null ? List.of() : entries);
        List<TraceEntry> drawn = all.size() > max ? all.subList(all.size() - max, all.size()) : all;
        String heading = text(title == null || title.isBlank() ? "Trace du labo" : title, 2 * MAX_TEXT);
        if (drawn.size() < all.size()) heading += " (les " + drawn.size() + " dernières requêtes sur " + all.size() + ")";

        StringBuilder uml = new StringBuilder(256 + 160 * drawn.size());
        uml.append("@startuml\n");
        if (drawn.isEmpty()) {
            // an activity diagram: a single box, and no Graphviz either
            return uml.append("title ").append(heading).append("\n:aucune requête;\n@enduml\n").toString();
        }
        uml.append("title ").append(heading).append('\n');

        Map<String, String> clients = new LinkedHashMap<>();
        Map<Integer, String> nodes = new TreeMap<>();
        for (TraceEntry e : drawn) {
            clients.computeIfAbsent(clientName(e), c -> "C" + (clients.size() + 1));
            nodes.putIfAbsent(e.node(), null);
        }
        int n = 0;
        for (Map.Entry<Integer, String> node : nodes.entrySet()) node.setValue("N" + (++n));
        clients.forEach((name, alias) -> uml.append("participant \"").append(text(name)).append("\" as ").append(alias).append('\n'));
        nodes.forEach((id, alias) -> uml.append("participant \"nœud ").append(text(String.valueOf(id))).append("\" as ").append(alias).append('\n'));

        TraceEntry.Action previous = null;
        for (TraceEntry e : drawn) {
            String client = clients.get(clientName(e));
            String node = nodes.get(e.node());
            TraceEntry.Action action = e.action() == null ? TraceEntry.Action.FORWARDED : e.action();
            String request = request(e);
            switch (action) {
                case REQUEST_DROPPED -> uml.append(client).append(" -[#red]>x ").append(node).append(" : ").append(request)
                        .append(lost(action)).append('\n');
                case CUT -> {
                    if (previous != TraceEntry.Action.CUT) uml.append("== connexion coupée ==\n");
                    uml.append(client).append(" -[#red]>x ").append(node).append(" : ").append(request).append(lost(action)).append('\n');
                }
                case RESPONSE_DROPPED -> {
                    uml.append(client).append(" -> ").append(node).append(" : ").append(request).append('\n');
                    uml.append(client).append(" x<[#red]-- ").append(node).append(" : ").append(response(e)).append(lost(action)).append('\n');
                }
                case DELAYED -> {
                    uml.append(client).append(" -> ").append(node).append(" : ").append(request).append('\n');
                    uml.append("note right #FFF3CD : retardée\n");
                    answer(uml, e, client, node);
                }
                case FORWARDED -> {
                    uml.append(client).append(" -> ").append(node).append(" : ").append(request).append('\n');
                    answer(uml, e, client, node);
                }
            }
            previous = action;
        }
        return uml.append("@enduml\n").toString();
    }

    /** The answer's arrow; none for a Produce with acks=0, which the broker never answers: a note says so. */
    private static void answer(StringBuilder uml, TraceEntry e, String client, String node) {
        if (e.unanswered()) uml.append("note right of ").append(node).append(" #EEEEEE : sans réponse (acks=0)\n");
        else uml.append(node).append(" --> ").append(client).append(" : ").append(response(e)).append('\n');
    }

    private static String lost(TraceEntry.Action action) {
        return " <color:#D00000>✘ " + action.french + "</color>";
    }

    /** The request's label: the API and what matters in it, already escaped. */
    private static String request(TraceEntry e) {
        StringBuilder b = new StringBuilder(text(e.api() == null || e.api().isBlank() ? "API " + e.apiKey() : e.api()));
        List<TraceEntry.PartitionData> partitions = e.partitions() == null ? List.of() : e.partitions();
        List<TraceEntry.OffsetData> offsets = e.offsets() == null ? List.of() : e.offsets();
        if ("Produce".equals(e.api())) {
            List<String> items = new ArrayList<>();
            for (TraceEntry.PartitionData p : partitions) {
                String item = partition(p.topic(), p.partition()) + " : " + p.records() + " msg";
                if (p.producerId() >= 0) item += ", pid=" + p.producerId() + " ép=" + p.producerEpoch() + " séq=" + p.baseSequence();
                items.add(item);
            }
            list(b, items, " ; ");
        } else if (!offsets.isEmpty()) {
            List<String> items = new ArrayList<>();
            for (TraceEntry.OffsetData o : offsets) items.add(partition(o.topic(), o.partition()) + "→" + o.offset());
            list(b, items, ", ");
        } else if (!partitions.isEmpty()) {
            List<String> items = new ArrayList<>();
            for (TraceEntry.PartitionData p : partitions) items.add(partition(p.topic(), p.partition()));
            list(b, items, ", ");
        }
        // a share group's acknowledgements (ShareAcknowledge, or a ShareFetch carrying them): type and offsets
        List<String> acks = new ArrayList<>();
        for (TraceEntry.ShareRange r : share(e)) if (!r.acquired()) acks.add(shareRange(r));
        list(b, acks, " ; ");
        if (e.transactionalId() != null && !e.transactionalId().isEmpty()) b.append(" tx=").append(text(e.transactionalId()));
        if (e.groupId() != null && !e.groupId().isEmpty()) b.append(" groupe=").append(text(e.groupId()));
        if (e.member() != null && !e.member().isEmpty() && !e.api().equals("ShareGroupHeartbeat")) b.append(' ').append(text(e.member()));
        return b.toString();
    }

    private static List<TraceEntry.ShareRange> share(TraceEntry e) {
        return e.share() == null ? List.of() : e.share();
    }

    /** « t-0 acquis 3–7 (livraison 2) » for what a ShareFetch lends, « t-0 ACCEPT 3–5 » for an acknowledgement; escaped. */
    static String shareRange(TraceEntry.ShareRange r) {
        String offsets = r.firstOffset() == r.lastOffset() ? String.valueOf(r.firstOffset()) : r.firstOffset() + "–" + r.lastOffset();
        String what = r.acquired() ? "acquis " + offsets + " (livraison " + r.deliveryCount() + ")" : r.kind() + " " + offsets;
        return partition(r.topic(), r.partition()) + " " + text(what);
    }

    /**
     * The answer's label, already escaped: the error, a Produce's offsets, a ShareFetch's acquired ranges, a
     * ShareGroupHeartbeat's member and epoch, or "ok".
     */
    private static String response(TraceEntry e) {
        if (e.error() != null && !e.error().isEmpty()) return "erreur " + text(e.error());
        List<String> acquired = new ArrayList<>();
        for (TraceEntry.ShareRange r : share(e)) if (r.acquired()) acquired.add(shareRange(r));
        if (!acquired.isEmpty()) {
            StringBuilder b = new StringBuilder();
            list(b, acquired, " ; ");
            return b.substring(1);
        }
        if ("ShareGroupHeartbeat".equals(e.api()) && e.member() != null) return text(e.member());
        List<TraceEntry.PartitionData> partitions = e.partitions() == null ? List.of() : e.partitions();
        if ("Produce".equals(e.api()) && !partitions.isEmpty()) {
            List<String> items = new ArrayList<>();
            boolean one = partitions.size() == 1;
            for (TraceEntry.PartitionData p : partitions) {
                String where = one ? "" : partition(p.topic(), p.partition()) + " ";
                if (p.error() != null && !p.error().isEmpty()) items.add(where + "erreur " + text(p.error()));
                else if (p.baseOffset() >= 0) items.add(where + "offset " + p.baseOffset());
            }
            if (!items.isEmpty()) {
                StringBuilder b = new StringBuilder();
                list(b, items, ", ");
                return b.substring(1);
            }
        }
        return "ok";
    }

    private static void list(StringBuilder b, List<String> items, String separator) {
        if (items.isEmpty()) return;
        b.append(' ').append(String.join(separator, items.subList(0, Math.min(MAX_ITEMS, items.size()))));
        if (items.size() > MAX_ITEMS) b.append(separator).append("… (+").append(items.size() - MAX_ITEMS).append(')');
    }

    private static String partition(String topic, int partition) {
        return text(topic == null ? "?" : topic) + text("-" + partition);
    }

    private static String clientName(TraceEntry e) {
        return e.clientId() == null || e.clientId().isEmpty() ? "client" : e.clientId();
    }

    /** The last version of each request (by seq), in the order the requests first appear. */
    private static List<TraceEntry> latestVersions(List<TraceEntry> entries) {
        Map<Long, TraceEntry> bySeq = new LinkedHashMap<>();
        for (TraceEntry e : entries) if (e != null) bySeq.put(e.seq(), e);
        return new ArrayList<>(bySeq.values());
    }

    /**
     * A text from the network, as PlantUML text that draws exactly it: ASCII letters, digits, spaces and other
     * scripts' letters and digits stay; every other character becomes PlantUML's {@code <U+XXXX>}, which is decoded
     * only when the text is drawn (so after the preprocessor and Creole: no markup, link, image, variable or
     * function call can come in); control and unassigned characters become U+FFFD. Texts longer than
     * {@value #MAX_TEXT} characters are cut.
     */
    static String text(String s) {
        return text(s, MAX_TEXT);
    }

    private static String text(String s, int max) {
        if (s == null) return "";
        StringBuilder b = new StringBuilder(s.length() + 16);
        int count = 0;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (++count > max) {
                b.append('…');
                break;
            }
            boolean ascii = (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') || cp == ' ';
            if (ascii || (cp > 0x7f && Character.isLetterOrDigit(cp))) {
                b.appendCodePoint(cp);
                continue;
            }
            int type = Character.getType(cp);
            if (Character.isISOControl(cp) || type == Character.UNASSIGNED || type == Character.SURROGATE || cp > 0xFFFFF) cp = 0xFFFD;
            String hex = Integer.toHexString(cp).toUpperCase(Locale.ROOT);
            b.append("<U+");
            for (int pad = hex.length(); pad < 4; pad++) b.append('0');
            b.append(hex).append('>');
        }
        return b.toString();
    }

    /** PlantUML source → SVG; a source PlantUML doesn't understand is a bug here, hence an exception. */
    private static String render(String uml) {
        SourceStringReader reader = new SourceStringReader(uml);
        List<BlockUml> blocks = reader.getBlocks();
        Diagram diagram = blocks.isEmpty() ? null : blocks.get(0).getDiagram();
        if (diagram == null || diagram instanceof PSystemError)
            throw new IllegalStateException("PlantUML ne comprend pas le diagramme de la trace :\n" + uml);
        ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
        try {
            reader.outputImage(out, new FileFormatOption(FileFormat.SVG, false));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
