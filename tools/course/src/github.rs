//! 给 GitHub 的配置文件的检查(`course dev check` 调用):Classroom 的自动评分配置
//! 和 `.github/workflows/` 里的工作流。
//!
//! 和 GitHub 一样读 YAML 要一个 YAML 库;这里要查的几件事看文本就够了:每一行的缩进
//! 说明它属于哪个键。

use std::fs;

use anyhow::{Context, Result, bail};

use crate::repo::{LessonDirs, Repo};

/// 给全班评分的工作流。
pub const GRADE_CLASS: &str = ".github/workflows/grade-class.yml";

/// `.github/classroom/classroom.yml` 里这一课的一项:命令评的是它,满分是各项分值之和。
pub fn classroom(repo: &Repo, dirs: &LessonDirs) -> Result<()> {
    let path = repo.root.join(".github/classroom/classroom.yml");
    let text = fs::read_to_string(&path).with_context(|| format!("读不到 {}", path.display()))?;
    let command = format!("--lessons {} --strict", dirs.lesson.number);
    let at = text.find(&command).with_context(|| {
        format!(
            "{} 里没有评第 {} 课的命令(…{command})",
            path.display(),
            dirs.lesson.number
        )
    })?;
    let score: u32 = text[at..]
        .lines()
        .find_map(|l| l.trim().strip_prefix("max-score:"))
        .and_then(|v| v.trim().parse().ok())
        .context("那一项后面没有 max-score")?;
    let total: u32 = dirs.lesson.steps.iter().map(|s| s.points).sum();
    if score != total {
        bail!("max-score 是 {score},可这一课各项的分值加起来是 {total}");
    }
    Ok(())
}

/// `.github/` 里的每一份 YAML:要执行的命令里没有 `${{ … }}`。
///
/// GitHub 先把 `${{ inputs.x }}` 原样替换进脚本,再交给 shell:一个叫
/// `a'; curl … #` 的目录名就成了一条命令(脚本注入)。输入要经过 `env:` 传进去,
/// 在脚本里用 `"$X"`。
pub fn no_expressions_in_scripts(repo: &Repo) -> Result<()> {
    let mut problems = Vec::new();
    for dir in [".github/workflows", ".github/classroom"] {
        let Ok(entries) = fs::read_dir(repo.root.join(dir)) else {
            continue;
        };
        for path in entries.flatten().map(|e| e.path()) {
            if !path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                continue;
            }
            let text = fs::read_to_string(&path)?;
            for (line, script) in expressions_in_scripts(&text) {
                let file = path.strip_prefix(&repo.root).unwrap_or(&path).display();
                problems.push(format!("{file} 第 {line} 行:{script}"));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        bail!(
            "命令里直接写了 ${{{{ … }}}}(脚本注入):请经过 env: 传进去,在命令里用 \"$变量\"\n{}",
            problems.join("\n")
        )
    }
}

/// YAML 文本里,写在要执行的命令(`run:`,以及 Classroom 的 `command:`、`setup-command:`)
/// 里的 `${{ … }}`:行号(从 1 起)和那一行。命令可以写在键的同一行,也可以是下面缩进
/// 更深的几行(`run: |`、`run: >-`)。
fn expressions_in_scripts(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    // 正在读的命令:它的键缩进了几格。
    let mut script_key: Option<usize> = None;
    for (i, line) in text.lines().enumerate() {
        let body = line.trim_start();
        let indent = line.len() - body.len();
        if let Some(key) = script_key
            && (body.is_empty() || indent > key)
        {
            if body.contains("${{") {
                found.push((i + 1, line.trim().to_owned()));
            }
            continue;
        }
        script_key = None;
        // 「- run: …」:键在「- 」后面。
        let (key_indent, key_body) = match body.strip_prefix("- ") {
            Some(rest) => (indent + 2, rest.trim_start()),
            None => (indent, body),
        };
        let is_script = ["run:", "command:", "setup-command:"]
            .iter()
            .any(|key| key_body.starts_with(key));
        if is_script {
            script_key = Some(key_indent);
            if key_body.contains("${{") {
                found.push((i + 1, line.trim().to_owned()));
            }
        }
    }
    found
}

/// 给全班评分的工作流默认要求完整的沙箱(`--require-sandbox`):runner 上装不好
/// bubblewrap 时,这一份评分失败,而不是在没有隔离的机器上跑陌生人的代码。
/// 老师可以明确地选择不要求(输入 `allow_partial_sandbox`,默认 false)。
pub fn grade_class_requires_the_sandbox(repo: &Repo) -> Result<()> {
    let path = repo.root.join(GRADE_CLASS);
    let text = fs::read_to_string(&path).with_context(|| format!("读不到 {}", path.display()))?;
    requires_the_sandbox(&text)
}

fn requires_the_sandbox(text: &str) -> Result<()> {
    let input = text
        .split("\n      allow_partial_sandbox:\n")
        .nth(1)
        .context("没有输入 allow_partial_sandbox(老师明确选择不要求完整的沙箱)")?;
    let input: Vec<&str> = input
        .lines()
        .take_while(|l| l.starts_with("        "))
        .map(str::trim)
        .collect();
    if !input.contains(&"type: boolean") || !input.contains(&"default: false") {
        bail!("输入 allow_partial_sandbox 应该是 type: boolean、default: false");
    }
    // 评分的那一步:工作流里的步骤都以缩进 6 格的「- 」开头。
    let step = text
        .split("\n      - ")
        .find(|step| step.contains("-p course -- grade --class"))
        .context("没有评分的那一步(cargo run … -p course -- grade --class …)")?;
    for (wanted, why) in [
        ("--require-sandbox", "不要求完整的沙箱"),
        (
            "ALLOW_PARTIAL_SANDBOX: ${{ inputs.allow_partial_sandbox }}",
            "没有从 env: 读老师的选择",
        ),
        (
            "\"$ALLOW_PARTIAL_SANDBOX\" = true",
            "没有照老师的选择决定要不要完整的沙箱",
        ),
    ] {
        if !step.contains(wanted) {
            bail!("评分的那一步{why}(没有 {wanted})");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// 输入直接写进命令(同一行的、`run: |` 下面的、`- run:` 的)都被找出来;
    /// 经过 env: 传进去的,以及命令以外的 `${{ … }}`(步骤名、with:)不算。
    #[test]
    fn expressions_pasted_into_scripts_are_caught() {
        let workflow = "\
jobs:
  grade:
    runs-on: ubuntu-latest
    steps:
      - name: 评第 ${{ matrix.shard }} 份
        env:
          SUBMISSIONS: ${{ inputs.submissions }}
        run: |
          course grade --class \"$SUBMISSIONS\"

          echo '${{ inputs.shards }}'
      - run: echo ${{ inputs.x }}
      - uses: actions/checkout@v4
        with:
          ref: ${{ env.REF }}
      - name: ok
        run: >-
          cargo run -- grade
          --class '${{ inputs.submissions }}'
        shell: bash
";
        let found: Vec<usize> = expressions_in_scripts(workflow)
            .into_iter()
            .map(|(line, _)| line)
            .collect();
        assert_eq!(found, [11, 12, 19]);
    }

    /// 这个仓库里的工作流和 Classroom 配置通过这两项检查;改回原来的样子(输入直接写进
    /// 命令、不要求完整的沙箱)就不通过。
    #[test]
    fn the_workflows_in_this_repository_pass_and_the_old_grade_class_does_not() {
        let repo = Repo::at(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
        no_expressions_in_scripts(&repo).unwrap();
        grade_class_requires_the_sandbox(&repo).unwrap();

        let text = fs::read_to_string(repo.root.join(GRADE_CLASS)).unwrap();
        let pasted = text.replace(
            "--class \"$SUBMISSIONS\"",
            "--class '${{ inputs.submissions }}'",
        );
        assert_ne!(pasted, text);
        assert_eq!(expressions_in_scripts(&pasted).len(), 1);
        let partial = text.replace("--require-sandbox", "");
        assert!(requires_the_sandbox(&partial).is_err());
    }
}
