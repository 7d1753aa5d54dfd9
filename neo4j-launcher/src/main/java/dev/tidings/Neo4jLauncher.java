package dev.tidings;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.graphdb.QueryExecutionException;

/**
 * Starts Neo4j Community embedded, with Bolt on 127.0.0.1:PORT and nothing else
 * listening, until the process is told to stop (SIGTERM or SIGINT).
 *
 * <p>Usage: {@code Neo4jLauncher HOME PORT}. The password of the user {@code neo4j}
 * comes from the environment variable NEO4J_PASSWORD (never the command line, which
 * other users can read); it is set on every start. Prints one line, "ready", once
 * Bolt accepts queries.
 */
public final class Neo4jLauncher {
  private Neo4jLauncher() {}

  public static void main(String[] args) throws InterruptedException {
    if (args.length != 2) {
      System.err.println("usage: Neo4jLauncher HOME PORT");
      System.exit(2);
    }
    String password = System.getenv("NEO4J_PASSWORD");
    if (password == null || password.length() < 8) {
      System.err.println("set NEO4J_PASSWORD (8 characters or more)");
      System.exit(2);
    }
    Path home = Path.of(args[0]).toAbsolutePath();
    int port = Integer.parseInt(args[1]);
    // A test or dev database: small and quick to start, unless told to hold more.
    long pagecacheMegabytes =
        Long.parseLong(System.getenv().getOrDefault("NEO4J_PAGECACHE_MB", "256"));

    DatabaseManagementService service =
        new DatabaseManagementServiceBuilder(home)
            .setConfig(BoltConnector.enabled, true)
            .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
            .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
            .setConfig(HttpConnector.enabled, false)
            .setConfig(GraphDatabaseSettings.auth_enabled, true)
            .setConfig(GraphDatabaseSettings.pagecache_memory, pagecacheMegabytes * 1024 * 1024)
            .build();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  service.shutdown();
                  stopped.countDown();
                }));

    try {
      setPassword(service.database("system"), password);
      service
          .database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME)
          .executeTransactionally("RETURN 1");
    } catch (RuntimeException failure) {
      failure.printStackTrace();
      System.exit(1); // the shutdown hook stops the service
    }
    System.out.println("ready");
    System.out.flush();
    stopped.await();
  }

  /** Sets the password on every start; on a restart it is usually set already. */
  private static void setPassword(GraphDatabaseService system, String password) {
    try {
      system.executeTransactionally(
          "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED",
          Map.of("password", password));
    } catch (QueryExecutionException refused) {
      if (!String.valueOf(refused.getMessage()).contains("cannot be the same")) {
        throw refused;
      }
    }
  }
}
