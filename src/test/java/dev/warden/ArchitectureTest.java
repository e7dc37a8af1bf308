package dev.warden;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import java.util.Set;

/**
 * The package graph of docs/architecture.md ("Package graph"), checked on the product's classes
 * (tests excluded): no cycle between packages, the entities below the API, the feed, the wiring and
 * the command line, and no benchmark reachable from the product.
 */
@AnalyzeClasses(packages = "dev.warden", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

  /** The launcher: it starts the daemon, the command-line clients and the benches, and nothing imports it. */
  private static final String MAIN = "dev.warden.Main";

  /**
   * One slice per package directly under dev.warden (with its subpackages), the root package's shared
   * vocabulary (CborSerializable, FeedTags, Rejection, Failures) one more, and Main its own: like
   * {@code slices().matching("dev.warden.(*)..")}, but a cycle through the root is caught too.
   */
  private static final SliceAssignment PACKAGES = new SliceAssignment() {
    @Override
    public SliceIdentifier getIdentifierOf(JavaClass c) {
      String pkg = c.getPackageName();
      if (!pkg.equals("dev.warden") && !pkg.startsWith("dev.warden.")) {
        return SliceIdentifier.ignore();
      }
      if (isMain(c)) {
        return SliceIdentifier.of("Main");
      }
      return SliceIdentifier.of(pkg.equals("dev.warden") ? "dev.warden (root)" : "dev.warden." + pkg.split("\\.")[2]);
    }

    @Override
    public String getDescription() {
      return "packages under dev.warden";
    }
  };

  private static final DescribedPredicate<JavaClass> BENCHES = DescribedPredicate.describe(
      "benchmarks (a class named *Bench, or in dev.warden.bench)",
      c -> c.getPackageName().equals("dev.warden.bench") || c.getPackageName().startsWith("dev.warden.bench.")
          || topLevelName(c).endsWith("Bench"));

  private static final Set<String> ENTITY_NAMES = Set.of("dev.warden.feature.Feature", "dev.warden.checkpoint.Checkpoints",
      "dev.warden.validate.Validator", "dev.warden.watchdog.Watchdog", "dev.warden.apply.Applier");

  /** The event-sourced entities, their nested commands, events and states, and their ports ({@code *Peers}). */
  private static final DescribedPredicate<JavaClass> ENTITIES = DescribedPredicate.describe(
      "entities (Feature, Checkpoints, Validator, Watchdog, Applier, their nested types and *Peers ports)",
      c -> ENTITY_NAMES.contains(topLevelName(c)) || topLevelName(c).endsWith("Peers") && c.getPackageName().startsWith("dev.warden."));

  @ArchTest
  static final ArchRule noCyclesBetweenPackages = slices().assignedFrom(PACKAGES)
      .should().beFreeOfCycles();

  @ArchTest
  static final ArchRule entitiesImportNeitherTheApiNorTheFeedNorTheWiringNorTheCommandLine = noClasses().that(ENTITIES)
      .should().dependOnClassesThat().resideInAnyPackage("dev.warden.http..", "dev.warden.feed..", "dev.warden.daemon..",
          "dev.warden.cli..");

  @ArchTest
  static final ArchRule nothingInTheProductImportsABenchmark = noClasses()
      .that(DescribedPredicate.not(BENCHES)).and(DescribedPredicate.describe("are not " + MAIN, c -> !isMain(c)))
      .should().dependOnClassesThat(BENCHES);

  private static boolean isMain(JavaClass c) {
    return topLevelName(c).equals(MAIN);
  }

  private static String topLevelName(JavaClass c) {
    String name = c.getName();
    int nested = name.indexOf('$');
    return nested < 0 ? name : name.substring(0, nested);
  }
}
