package kit.lab;

import kit.faults.Trace;
import kit.faults.TraceEntry.Action;
import kit.faults.TraceEntry.OffsetData;
import kit.faults.TraceEntry.PartitionData;
import kit.faults.TraceEntry.ShareRange;
import kit.faults.TraceEntry;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The lab's trace drawn as a sequence diagram: PlantUML's SVG, read back as XML. */
class TraceDiagramTest {

    private static final List<TraceEntry> FOUR = List.of(
            produce(1, "producer-1", Action.FORWARDED, 10),
            produce(2, "producer-1", Action.RESPONSE_DROPPED, 15),
            entry(3, "producer-1", "EndTxn", Action.REQUEST_DROPPED, List.of(), List.of(), "tx-démo", null),
            entry(4, "consumer-1", "OffsetCommit", Action.FORWARDED, List.of(),
                    List.of(new OffsetData("t", 0, 12), new OffsetData("t", 1, 7)), null, "groupe-1"));

    @Test
    void acksZeroProduce_hasNoAnswerArrow_butANoteSansReponse() {
        TraceEntry acks0 = new TraceEntry(1, 1_764_079_387_126L, 1, "producer-1", "Produce", (short) 0, (short) 9, 1, Action.FORWARDED,
                List.of(new PartitionData("t", 0, 5, -1, (short) -1, -1, -1, null)), List.of(), null, null, null, (short) 0);
        TraceEntry acksAll = produce(2, "producer-1", Action.FORWARDED, 10);
        String uml = TraceDiagram.plantUml(List.of(acks0, acksAll), "acks", 80);
        assertEquals(1, uml.lines().filter(l -> l.contains("sans réponse (acks=0)")).count(), uml);
        assertEquals(1, uml.lines().filter(l -> l.matches("N1 --> C1 : .*")).count(), "une seule réponse : celle de acks=all\n" + uml);
        assertFalse(uml.contains(": ok"), uml);
    }

    @Test
    void shareGroupTraffic_acquiredRangesWithDeliveryCounts_onTheAnswer_acknowledgementTypes_onTheRequest() throws Exception {
        TraceEntry fetch = entry(1, "share-1", "ShareFetch", Action.FORWARDED, List.of(), List.of(), null, "sg")
                .withShare(List.of(new ShareRange("t", 0, 0, 2, "RELEASE", -1), new ShareRange("t", 0, 3, 7, ShareRange.ACQUIRED, 2)),
                        "membre=m1 session=1");
        TraceEntry ack = entry(2, "share-1", "ShareAcknowledge", Action.FORWARDED, List.of(), List.of(), null, "sg")
                .withShare(List.of(new ShareRange("t", 0, 3, 4, "ACCEPT", -1), new ShareRange("t", 0, 5, 5, "REJECT", -1)), "membre=m1 session=2");
        TraceEntry beat = entry(3, "share-1", "ShareGroupHeartbeat", Action.FORWARDED, List.of(), List.of(), null, "sg")
                .withShare(List.of(), "membre=m1 ép=0 → 1");
        String text = svgText(TraceDiagram.svg(List.of(fetch, ack, beat), "file"));
        for (String expected : List.of("ShareFetch t-0 RELEASE 0–2 groupe=sg membre=m1 session=1", "t-0 acquis 3–7 (livraison 2)",
                "ShareAcknowledge t-0 ACCEPT 3–4 ; t-0 REJECT 5 groupe=sg", "membre=m1 ép=0 → 1"))
            assertTrue(text.contains(expected), "« " + expected + " » absent du SVG :\n" + text);
    }

    @Test
    void shareGroupTraffic_inFaultTracesLine() {
        TraceEntry fetch = entry(1, "share-1", "ShareFetch", Action.FORWARDED, List.of(), List.of(), null, "sg")
                .withShare(List.of(new ShareRange("t", 0, 5, 5, "REJECT", -1), new ShareRange("t", 0, 3, 7, ShareRange.ACQUIRED, 2)),
                        "membre=m1 session=1");
        String line = FaultCommand.line(com.google.gson.JsonParser.parseString(LabControl.toJson(LabControl.entry(fetch))).getAsJsonObject());
        assertTrue(line.contains("ShareFetch (corr 1)  t-0 REJECT 5  t-0 acquis 3–7 (livraison 2)  groupe=sg  membre=m1 session=1"), line);
    }

    @Test
    void requestsAnswersAndLosses_drawnWithFrenchLabels() throws Exception {
        String svg = TraceDiagram.svg(FOUR, "Trace du labo");
        String text = svgText(svg);
        for (String expected : List.of("Trace du labo", "producer-1", "consumer-1", "nœud 1",
                "Produce t-0 : 5 msg, pid=1000 ép=0 séq=0", "offset 10", "offset 15", "réponse perdue",
                "EndTxn tx=tx-démo", "requête perdue", "OffsetCommit t-0→12, t-1→7 groupe=groupe-1", "ok"))
            assertTrue(text.contains(expected), "« " + expected + " » absent du SVG :\n" + text);

        String uml = TraceDiagram.plantUml(FOUR, "Trace du labo", 80);
        List<String> lines = uml.lines().toList();
        String endTxn = lines.stream().filter(l -> l.contains("EndTxn")).findFirst().orElseThrow();
        assertTrue(endTxn.matches("C1 -\\[#red\\]>x N1 : .*requête perdue.*"), "requête perdue : message perdu en rouge\n" + uml);
        assertEquals(1, lines.stream().filter(l -> l.matches("C1 x<\\[#red\\]-- N1 : offset 15 .*réponse perdue.*")).count(),
                "réponse perdue : message perdu en rouge\n" + uml);
        assertEquals(2, lines.stream().filter(l -> l.matches("N1 --> C\\d : .*")).count(),
                "une réponse pour chacune des deux requêtes transmises, aucune pour les pertes\n" + uml);
        assertEquals(2, lines.stream().filter(l -> l.contains("[#red]")).count(), uml);
    }

    @Test
    void participants_clientsThenNodesInOrder() {
        List<TraceEntry> entries = List.of(
                entry(1, "b", "Metadata", Action.FORWARDED, List.of(), List.of(), null, null, 3),
                entry(2, null, "Metadata", Action.FORWARDED, List.of(), List.of(), null, null, 1),
                entry(3, "a", "Metadata", Action.FORWARDED, List.of(), List.of(), null, null, 2),
                entry(4, "", "Metadata", Action.FORWARDED, List.of(), List.of(), null, null, 1));
        List<String> participants = TraceDiagram.plantUml(entries, "t", 80).lines().filter(l -> l.startsWith("participant ")).toList();
        assertEquals(List.of("participant \"b\" as C1", "participant \"client\" as C2", "participant \"a\" as C3",
                "participant \"nœud 1\" as N1", "participant \"nœud 2\" as N2", "participant \"nœud 3\" as N3"), participants);
    }

    @Test
    void manyEntries_onlyTheLast80_andTheTitleSaysSo() throws Exception {
        List<TraceEntry> entries = new ArrayList<>();
        for (int i = 0; i < 500; i++) entries.add(produce(i, "producer-1", Action.FORWARDED, 1000 + i));
        String uml = TraceDiagram.plantUml(entries, "Trace", 80);
        assertEquals(80, uml.lines().filter(l -> l.startsWith("C1 -> N1 : Produce")).count(), uml);
        assertTrue(uml.contains(": offset 1499\n") && uml.contains(": offset 1420\n"), uml);
        assertFalse(uml.contains(": offset 1419\n"), uml);

        String text = svgText(TraceDiagram.svg(entries, "Trace"));
        assertTrue(text.contains("Trace (les 80 dernières requêtes sur 500)"), text);
        assertTrue(text.contains("offset 1420") && !text.contains("offset 1419"), text);

        String few = svgText(TraceDiagram.svg(entries.subList(0, 80), "Trace"));
        assertFalse(few.contains("dernières requêtes"), "80 requêtes sur 80 : rien n'est laissé de côté\n" + few);
        assertTrue(svgText(TraceDiagram.svg(entries, "Trace", 10)).contains("Trace (les 10 dernières requêtes sur 500)"));
        assertThrows(IllegalArgumentException.class, () -> TraceDiagram.svg(entries, "Trace", 0));
    }

    @Test
    void sameSeqTwice_drawnOnce_withTheAnswer() {
        List<TraceEntry> entries = List.of(produce(7, "p", Action.FORWARDED, -1), produce(8, "p", Action.FORWARDED, 3),
                produce(7, "p", Action.FORWARDED, 42));
        String uml = TraceDiagram.plantUml(entries, "t", 80);
        assertEquals(2, uml.lines().filter(l -> l.contains(": Produce")).count(), uml);
        assertTrue(uml.indexOf("offset 42") < uml.indexOf("offset 3"), "la requête 7 reste à sa place\n" + uml);
    }

    @Test
    void delayAndCut_noteAndSeparator() throws Exception {
        List<TraceEntry> entries = List.of(
                entry(1, "c", "JoinGroup", Action.DELAYED, List.of(), List.of(), null, "g"),
                produce(2, "c", Action.CUT, -1),
                produce(3, "c", Action.CUT, -1));
        String uml = TraceDiagram.plantUml(entries, "t", 80);
        assertTrue(uml.contains("C1 -> N1 : JoinGroup groupe=g\nnote right #FFF3CD : retardée\nN1 --> C1 : ok\n"), uml);
        assertEquals(1, uml.lines().filter(l -> l.equals("== connexion coupée ==")).count(), "un séparateur par coupure\n" + uml);
        assertEquals(2, uml.lines().filter(l -> l.startsWith("C1 -[#red]>x N1 : Produce")).count(), uml);
        String text = svgText(TraceDiagram.svg(entries, "t"));
        assertTrue(text.contains("retardée") && text.contains("connexion coupée"), text);
    }

    @Test
    void namesFromTheNetwork_drawnAsTheyAre() throws Exception {
        String client = "a//b**c__d--e~~f\"g[[http://x]] <img:http://x/y.png>";
        String group = "<b>h</b> \\n %date() $x !include @enduml";
        String tx = "tx\nnote over C1 : injecté";
        List<TraceEntry> entries = List.of(
                entry(1, client, "Produce", Action.FORWARDED,
                        List.of(new PartitionData("t--x__y", 0, 1, -1, (short) -1, -1, -1, "NOT_LEADER_OR_FOLLOWER")),
                        List.of(), tx, group),
                entry(2, "c".repeat(500), "Metadata", Action.FORWARDED, List.of(), List.of(), null, null));
        String uml = TraceDiagram.plantUml(entries, "titre <b>**gras**</b>", 80);
        assertFalse(uml.contains("<img") || uml.contains("[[") || uml.contains("%date") || uml.contains("\nnote over"), uml);
        String svg = TraceDiagram.svg(entries, "titre <b>**gras**</b>");
        String text = svgText(svg);
        assertTrue(text.contains(client), text);
        assertTrue(text.contains("titre <b>**gras**</b>"), text);
        assertTrue(text.contains("Produce t--x__y-0 : 1 msg tx=tx\uFFFDnote over C1 : injecté groupe=" + group), text);
        assertTrue(text.contains("erreur NOT_LEADER_OR_FOLLOWER"), text);
        assertTrue(text.contains("c".repeat(60) + "…") && !text.contains("c".repeat(61)), "un nom trop long est coupé\n" + text);
        assertFalse(svg.contains("<image") || svg.contains("<a "), "ni image ni lien venus du réseau");
    }

    @Test
    void emptyTrace_saysNoRequest() throws Exception {
        String text = svgText(TraceDiagram.svg(List.of(), "Trace du labo"));
        assertTrue(text.contains("aucune requête") && text.contains("Trace du labo"), text);
        assertTrue(svgText(TraceDiagram.svg(null, null)).contains("aucune requête"));
    }

    @Test
    void rendering_quietAndFast() throws Exception {
        List<TraceEntry> entries = new ArrayList<>();
        Action[] actions = Action.values();
        for (int i = 0; i < 300; i++)
            entries.add(i % 4 == 0
                    ? entry(i, "consumer-" + i % 3, "TxnOffsetCommit", actions[i % actions.length], List.of(),
                            List.of(new OffsetData("in", i % 2, i)), "tx-" + i % 5, "g", null, 1 + i % 3)
                    : produce(i, "producer-" + i % 3, actions[i % actions.length], i));
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            for (int i = 0; i < 3; i++) TraceDiagram.svg(entries, "chauffe");
        } finally {
            System.setOut(stdout);
        }
        assertEquals("", captured.toString(StandardCharsets.UTF_8), "PlantUML ne doit rien écrire sur la sortie standard");

        // CPU time of this thread: the machine may be loaded, the work is what is measured
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        if (!threads.isCurrentThreadCpuTimeSupported()) return;
        long[] ms = new long[5];
        for (int i = 0; i < ms.length; i++) {
            long start = threads.getCurrentThreadCpuTime();
            TraceDiagram.svg(entries, "mesure");
            ms[i] = (threads.getCurrentThreadCpuTime() - start) / 1_000_000;
        }
        Arrays.sort(ms);
        System.err.println("TraceDiagram : 80 requêtes en " + Arrays.toString(ms) + " ms de CPU");
        assertTrue(ms[2] < 1000, "80 requêtes : " + Arrays.toString(ms) + " ms de CPU");
    }

    /** The text the SVG shows, one line per text element; fails if the SVG isn't well-formed XML. */
    static String svgText(String svg) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        factory.setNamespaceAware(true);
        Document doc = factory.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        assertEquals("svg", doc.getDocumentElement().getLocalName());
        NodeList texts = doc.getElementsByTagNameNS("*", "text");
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < texts.getLength(); i++) b.append(texts.item(i).getTextContent().replace('\u00A0', ' ')).append('\n');
        return b.toString();
    }

    private static TraceEntry produce(long seq, String client, Action action, long baseOffset) {
        return entry(seq, client, "Produce", action, List.of(new PartitionData("t", 0, 5, 1000, (short) 0, 0, baseOffset, null)),
                List.of(), null, null);
    }

    private static TraceEntry entry(long seq, String client, String api, Action action, List<PartitionData> partitions,
                                    List<OffsetData> offsets, String tx, String group) {
        return entry(seq, client, api, action, partitions, offsets, tx, group, null, 1);
    }

    private static TraceEntry entry(long seq, String client, String api, Action action, List<PartitionData> partitions,
                                    List<OffsetData> offsets, String tx, String group, int node) {
        return entry(seq, client, api, action, partitions, offsets, tx, group, null, node);
    }

    private static TraceEntry entry(long seq, String client, String api, Action action, List<PartitionData> partitions,
                                    List<OffsetData> offsets, String tx, String group, String error, int node) {
        return new TraceEntry(seq, 1_764_079_387_125L + seq, node, client, api, (short) 0, (short) 9, (int) seq, action,
                partitions, offsets, tx, group, error);
    }
}
