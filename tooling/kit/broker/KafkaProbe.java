package kit.broker;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;

import java.util.Properties;
import java.util.concurrent.TimeUnit;

/** Asks, with a short timeout, whether a Kafka cluster answers at an address. */
public final class KafkaProbe {
    private KafkaProbe() { }

    /** A short description ("1 nœud, cluster X") of the cluster at {@code bootstrap}, or null if nothing Kafka answers. */
    public static String describe(String bootstrap) {
        return describe(bootstrap, 3000);
    }

    public static String describe(String bootstrap, int timeoutMs) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, String.valueOf(timeoutMs));
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, String.valueOf(timeoutMs));
        p.put(AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MS_CONFIG, "1000");
        p.put(AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS_CONFIG, "1000");
        try (Admin admin = Admin.create(p)) {
            DescribeClusterResult r = admin.describeCluster();
            int nodes = r.nodes().get(timeoutMs, TimeUnit.MILLISECONDS).size();
            return nodes + " nœud" + (nodes > 1 ? "s" : "") + ", cluster " + r.clusterId().get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            return null;
        }
    }
}
