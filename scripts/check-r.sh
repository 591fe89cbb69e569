#!/usr/bin/env bash
# The outside references issue 24's statistics were checked against, recomputed in R (Debian's
# r-base-core, r-cran-lme4; installed here when missing, as root): the variance of the median of
# m normals (stats/sessions_stats.c's table), lme4's REML between-session variance for
# tests/test_stats_corners.c's two-side data and the pooled ANOVA beside REML on unbalanced
# designs, Jonckheere-Terpstra's tie-corrected variance against a permutation variance, and the
# sick-host flag's power (the noncentral t).
# Prints figures; asserts nothing.
#   scripts/check-r.sh
set -euo pipefail
if ! command -v Rscript >/dev/null || ! Rscript -e 'library(lme4)' >/dev/null 2>&1; then
	apt-get install -y r-base-core r-cran-lme4 >/dev/null
fi
Rscript - <<'R'
medvar <- function(m) { # Var(median of m N(0,1)): the order statistics' densities integrated
  if (m %% 2 == 1) {
    k <- (m + 1) / 2
    c <- exp(lfactorial(m) - lfactorial(k - 1) - lfactorial(m - k))
    return(integrate(function(x) x^2 * c * pnorm(x)^(k - 1) * pnorm(x, lower.tail = FALSE)^(m - k) *
                     dnorm(x), -Inf, Inf, rel.tol = 1e-13)$value)
  }
  r <- m / 2
  c1 <- exp(lfactorial(m) - lfactorial(r - 1) - lfactorial(m - r))
  ex2 <- integrate(function(x) x^2 * c1 * pnorm(x)^(r - 1) * pnorm(x, lower.tail = FALSE)^(m - r) *
                   dnorm(x), -Inf, Inf, rel.tol = 1e-13)$value
  c2 <- exp(lfactorial(m) - lfactorial(r - 1) - lfactorial(m - r - 1))
  g <- function(x) sapply(x, function(x0) integrate(function(y) y * pnorm(y, lower.tail = FALSE)^(m - r - 1) *
                                                    dnorm(y), x0, Inf, rel.tol = 1e-13)$value)
  exy <- integrate(function(x) x * c2 * pnorm(x)^(r - 1) * dnorm(x) * g(x), -Inf, Inf, rel.tol = 1e-12)$value
  (2 * ex2 + 2 * exy) / 4
}
cat("== variance of the median of m normals (m, Var, m Var)\n")
for (m in 1:30) cat(sprintf("%2d %.12f %.6f\n", m, medvar(m), m * medvar(m)))

suppressMessages(library(lme4))
cat("\n== between-session variance, two sides (side fixed), balanced 2 x 4 x 5: REML\n")
set.seed(1)
ses <- rep(1:8, each = 5); side <- rep(c("a", "b"), each = 20)
y <- log(1000) + 0.05 * (side == "b") + rnorm(8, 0, 0.01)[ses] + rnorm(40, 0, 0.02); y <- round(y, 6)
print(as.data.frame(VarCorr(lmer(y ~ side + (1 | ses), REML = TRUE)))[, c("grp", "vcov")], digits = 10)
one <- function(y, s) { a <- anova(lm(y ~ factor(s))); (a[1, 3] - a[2, 3]) / 5 }
cat("each side alone (ANOVA):", one(y[1:20], ses[1:20]), one(y[21:40], ses[21:40]), "\n")
cat("\n== unbalanced designs (3-6 sessions a side of 3-12 boots): pooled ANOVA / REML - 1\n")
anova_sides <- function(y, ses, side) {
  a <- anova(lm(y ~ side + factor(ses))); df <- a[2, 1]
  sq <- sum(tapply(ses, side, function(s) sum(table(s)^2) / length(s)))
  max(0, (a[2, 3] - a[3, 3]) / ((length(y) - sq) / df))
}
set.seed(7); rel <- NULL
for (r in 1:200) {
  ka <- sample(3:6, 1); kb <- sample(3:6, 1); n <- sample(3:12, ka + kb, replace = TRUE)
  ses <- rep(seq_len(ka + kb), n); side <- ifelse(ses <= ka, "a", "b")
  y <- 0.05 * (side == "b") + rnorm(ka + kb, 0, 0.01)[ses] + rnorm(length(ses), 0, 0.02)
  e <- anova_sides(y, ses, side)
  reml <- suppressMessages(as.data.frame(VarCorr(lmer(y ~ side + (1 | ses), REML = TRUE)))$vcov[1])
  if (reml > 1e-10 && e > 0) rel <- c(rel, e / reml - 1)
}
cat(length(rel), "cases with both positive; quantiles:\n"); print(quantile(rel, c(0, .1, .5, .9, 1)))

cat("\n== Jonckheere-Terpstra with ties: Hollander & Wolfe's variance against permutations\n")
set.seed(24); K <- 4; M <- 8; N <- K * M; g <- rep(1:K, each = M); n <- rep(M, K)
y <- round(100 + 0.4 * (g - 1) + rnorm(N, 0, 2))
J <- function(y) { s <- 0; for (a in 1:(K - 1)) for (b in (a + 1):K) {
  x <- y[g == a]; z <- y[g == b]; s <- s + sum(outer(x, z, "<")) + 0.5 * sum(outer(x, z, "==")) }; s }
t <- table(y)
v <- (N * (N - 1) * (2 * N + 5) - sum(n * (n - 1) * (2 * n + 5)) - sum(t * (t - 1) * (2 * t + 5))) / 72 +
  sum(n * (n - 1) * (n - 2)) * sum(t * (t - 1) * (t - 2)) / (36 * N * (N - 1) * (N - 2)) +
  sum(n * (n - 1)) * sum(t * (t - 1)) / (8 * N * (N - 1))
perm <- replicate(100000, J(sample(y)))
cat("tie-corrected", v, " untied", (N^2 * (2 * N + 3) - sum(n^2 * (2 * n + 3))) / 72,
    " permutation (1e5)", var(perm), "\n")

cat("\n== the sick-host flag's power (cm_stats_t_power): a two-sided t at Sidak's level over 4 hosts\n")
for (df in c(8, 32)) {
  c <- qt(1 - (1 - 0.95^0.25) / 2, df)
  for (lam in c(1, 3, 5))
    cat(sprintf("df %d crit %.6f lam %d: power %.6f\n", df, c, lam, 1 - pt(c, df, lam) + pt(-c, df, lam)))
}
R
