//! 课程作者的工具:检查课程的约定、按参考答案重新生成骨架、新建一课。

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use clap_zh::say;
use colored::Colorize;
use harness::Status;

use crate::files::{TempDir, copy_course, copy_dir};
use crate::grade::write_skeleton;
use crate::repo::{LessonDirs, Repo};
use crate::{github, hints, skeleton, todo_check};

#[derive(Subcommand)]
pub enum DevCommand {
    /// 检查整个课程的约定(.ci/run 调用它):骨架和参考答案生成的一致、骨架在第 1 项失败、参考答案全部通过、章节和提示都在
    #[command(help_template = "{about}")]
    Check,
    /// 只检查骨架的 TODO 和提示跟参考答案对得上(不编译,一秒钟):TODO 提到的 API、`?`、要发的话,第 3 级提示调用的东西
    /// 都要是参考答案那一块做的
    #[command(help_template = "{about}\n\n参数:\n{positionals}")]
    Todos {
        /// 只检查这一课(默认全部)
        lesson: Option<String>,
    },
    /// 按参考答案和它的 skeleton.txt 重新生成练习骨架(会覆盖 lessons/NN-*/src/)
    #[command(help_template = "{about}\n\n参数:\n{positionals}")]
    Skeleton {
        /// 只生成这一课(默认全部)
        lesson: Option<String>,
    },
    /// 按评分器的规则清单重新生成课本里「评分器检查什么」的表格(book/src/rules/NN.md)
    #[command(help_template = "{about}")]
    Rules,
    /// 新建一课:参考答案、骨架、评分器、章节和提示的起点,填好以后能通过 dev check
    #[command(help_template = "{about}\n\n参数:\n{positionals}")]
    New {
        /// 课号和名字,比如 07-udp-broadcast
        name: String,
    },
}

pub fn run(repo: &Repo, command: DevCommand) -> Result<ExitCode> {
    match command {
        DevCommand::Check => check(repo),
        DevCommand::Todos { lesson } => {
            let lessons = match lesson {
                Some(number) => vec![repo.lesson(&number)?],
                None => repo.lessons()?,
            };
            let mut checks = Checks::default();
            for dirs in &lessons {
                say!("{}", dirs.title().bold());
                checks.record(TODOS_MATCH, todo_check::check(&dirs.solution));
                checks.record(HINTS_MATCH, hints_match(repo, dirs));
            }
            Ok(checks.verdict())
        }
        DevCommand::Skeleton { lesson } => {
            let lessons = match lesson {
                Some(number) => vec![repo.lesson(&number)?],
                None => repo.lessons()?,
            };
            for dirs in &lessons {
                write_skeleton(dirs)?;
                say!("已生成 {}", dirs.exercise.join("src").display());
            }
            Ok(ExitCode::SUCCESS)
        }
        DevCommand::Rules => {
            for dirs in repo.lessons()? {
                if dirs.lesson.rules.is_empty() {
                    say!("{} 还没有规则清单,跳过", dirs.title());
                    continue;
                }
                let path = rules_file(repo, &dirs);
                fs::write(&path, harness::rules::render(dirs.lesson))
                    .with_context(|| format!("无法写入 {}", path.display()))?;
                say!("已生成 {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        DevCommand::New { name } => new_lesson(repo, &name),
    }
}

/// 课本里这一课的规则表:book/src/rules/NN.md。
fn rules_file(repo: &Repo, dirs: &LessonDirs) -> std::path::PathBuf {
    repo.root
        .join("book/src/rules")
        .join(format!("{}.md", dirs.lesson.number))
}

/// 规则清单成立,课本里的规则表也是由它生成的最新版本。
fn rules(repo: &Repo, dirs: &LessonDirs) -> Result<()> {
    let chapter_path = repo.root.join(dirs.lesson.chapter);
    let chapter = fs::read_to_string(&chapter_path)
        .with_context(|| format!("读不到 {}", chapter_path.display()))?;
    let problems = harness::rules::problems(dirs.lesson, &chapter);
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }
    let path = rules_file(repo, dirs);
    let written = fs::read_to_string(&path).unwrap_or_default();
    if written != harness::rules::render(dirs.lesson) {
        bail!(
            "{} 和规则清单不一致:运行 cargo run -p course -- dev rules 重新生成",
            path.display()
        );
    }
    let include = format!("{{{{#include rules/{}.md}}}}", dirs.lesson.number);
    if !chapter.contains(&include) {
        bail!("{} 里没有 {include}", dirs.lesson.chapter);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// dev check
// ---------------------------------------------------------------------------

const TODOS_MATCH: &str =
    "TODO 和参考答案对得上:提到的 API 这一块都用了,`?` 用得上,要发的话和参考答案一样";

const HINTS_MATCH: &str = "第 3 级提示的代码和参考答案的那一块调用的是同一些东西";

fn hints_match(repo: &Repo, dirs: &LessonDirs) -> Result<()> {
    todo_check::check_hints(&repo.root, dirs.lesson.number, &dirs.solution)
}

/// 记下每一条检查的结果。
#[derive(Default)]
struct Checks {
    failed: usize,
}

impl Checks {
    fn record(&mut self, what: &str, result: Result<()>) {
        match result {
            Ok(()) => say!("  {} {what}", "✓".green()),
            Err(err) => {
                self.failed += 1;
                say!(
                    "  {} {what}\n      {}",
                    "✗".red(),
                    format!("{err:#}").replace('\n', "\n      ")
                );
            }
        }
    }

    /// 打印总结:全部成立,还是有几条没通过。
    fn verdict(&self) -> ExitCode {
        if self.failed == 0 {
            say!("{}", "\n课程的约定全部成立。".green());
            ExitCode::SUCCESS
        } else {
            say!("{}", format!("\n{} 条检查没有通过。", self.failed).red());
            ExitCode::FAILURE
        }
    }
}

fn check(repo: &Repo) -> Result<ExitCode> {
    let mut checks = Checks::default();
    let summary = fs::read_to_string(repo.root.join("book/src/SUMMARY.md")).unwrap_or_default();
    let target = repo.target_dir().join("course-dev");
    for dirs in repo.lessons()? {
        say!("{}", dirs.title().bold());
        checks.record("骨架和参考答案生成的一致(没有漂移)", no_drift(&dirs));
        checks.record("骨架的每一步都有 TODO 和 todo!()", todos(&dirs));
        checks.record(TODOS_MATCH, todo_check::check(&dirs.solution));
        checks.record(HINTS_MATCH, hints_match(repo, &dirs));
        checks.record(
            "练习和参考答案的 tests/grade.rs 一样,包名对",
            crates_match(&dirs),
        );
        checks.record(
            "章节存在、在目录里,练习和参考答案的开头写着它",
            chapter(repo, &dirs, &summary),
        );
        checks.record("骨架的每一步都有 3 级提示", hints_written(repo, &dirs));
        checks.record(
            "规则清单成立:每条规则有检查、有例子,章节里有原话,课本的规则表是最新的",
            rules(repo, &dirs),
        );
        checks.record(
            "GitHub Classroom 的配置里有这一课,满分对",
            github::classroom(repo, &dirs),
        );
        checks.record(
            "未修改的骨架能编译,评分器在第 1 项判它失败",
            graded(repo, &dirs, &dirs.package(), &target, Expect::FailsFirst),
        );
        checks.record(
            "参考答案通过全部检查",
            graded(
                repo,
                &dirs,
                &dirs.solution_package(),
                &target,
                Expect::Passes,
            ),
        );
    }
    say!("{}", "把参考答案的 src/ 放进练习".bold());
    checks.record(
        "每一课的练习换上参考答案后都通过",
        solutions_as_exercises(repo, &target),
    );
    say!("{}", "GitHub 的工作流".bold());
    checks.record(
        "要执行的命令里没有 ${{ … }}:输入经过 env: 传进去(防脚本注入)",
        github::no_expressions_in_scripts(repo),
    );
    checks.record(
        "给全班评分的工作流默认要求完整的沙箱,老师可以明确选择不要求",
        github::grade_class_requires_the_sandbox(repo),
    );
    Ok(checks.verdict())
}

fn no_drift(dirs: &LessonDirs) -> Result<()> {
    let generated = skeleton::generate_src(&dirs.solution)?;
    let src = dirs.exercise.join("src");
    let committed = skeleton::rust_files(&src)?;
    let mut problems = Vec::new();
    for (rel, text) in &generated {
        match fs::read_to_string(dirs.exercise.join(rel)) {
            Ok(now) if now == *text => {}
            Ok(_) => problems.push(format!("{} 和生成的不一样", rel.display())),
            Err(_) => problems.push(format!("少了 {}", rel.display())),
        }
    }
    for path in committed {
        let rel = path.strip_prefix(&dirs.exercise).unwrap_or(&path);
        if !generated.iter().any(|(g, _)| g == rel) {
            problems.push(format!("多了 {}", rel.display()));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        bail!(
            "{}。改参考答案或 skeleton.txt 以后,运行 cargo run -p course -- dev skeleton {}",
            problems.join(";"),
            dirs.lesson.number
        )
    }
}

fn todos(dirs: &LessonDirs) -> Result<()> {
    let spec = skeleton::Spec::load(&dirs.solution)?;
    if spec.steps() == 0 {
        bail!("skeleton.txt 里一个 step 也没有:学员没有东西可写");
    }
    let text: String = skeleton::generate_src(&dirs.solution)?
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    for step in 1..=spec.steps() {
        let todo = format!("// TODO: 第 {step} 步");
        if !text.contains(&todo) {
            bail!("骨架里没有「{todo}」:步骤要从 1 连续编号,每一步以它开头");
        }
    }
    let count = text.matches("todo!(").count() - text.matches("// 骨架里的 todo!()").count();
    if count < spec.steps() {
        bail!("{} 步却只有 {count} 个 todo!()", spec.steps());
    }
    Ok(())
}

fn crates_match(dirs: &LessonDirs) -> Result<()> {
    let read = |path: &Path| {
        fs::read_to_string(path).with_context(|| format!("读不到 {}", path.display()))
    };
    if read(&dirs.exercise.join("tests/grade.rs"))? != read(&dirs.solution.join("tests/grade.rs"))?
    {
        bail!("两个 tests/grade.rs 不一样:它们必须是同一个文件");
    }
    for (dir, package) in [
        (&dirs.exercise, dirs.package()),
        (&dirs.solution, dirs.solution_package()),
    ] {
        if !read(&dir.join("Cargo.toml"))?.contains(&format!("name = \"{package}\"")) {
            bail!(
                "{} 的包名应该是 {package}",
                dir.join("Cargo.toml").display()
            );
        }
    }
    Ok(())
}

fn chapter(repo: &Repo, dirs: &LessonDirs, summary: &str) -> Result<()> {
    let chapter = dirs.lesson.chapter;
    if !repo.root.join(chapter).is_file() {
        bail!("没有 {chapter}");
    }
    let file = chapter.trim_start_matches("book/src/");
    if !summary.contains(&format!("({file})")) {
        bail!("book/src/SUMMARY.md 里没有 ({file})");
    }
    for dir in [&dirs.exercise, &dirs.solution] {
        if !fs::read_to_string(dir.join("src/main.rs"))?.contains(chapter) {
            bail!("{}/src/main.rs 的开头没有写课本 {chapter}", dir.display());
        }
    }
    Ok(())
}

pub(crate) fn hints_written(repo: &Repo, dirs: &LessonDirs) -> Result<()> {
    let spec = skeleton::Spec::load(&dirs.solution)?;
    let written = hints::steps(&repo.root, dirs.lesson.number);
    let missing: Vec<String> = (1..=spec.steps())
        .filter(|step| !written.iter().any(|(s, levels)| s == step && *levels == 3))
        .map(|step| format!("第 {step} 步"))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        bail!(
            "{} 的 {} 没有恰好 3 级提示",
            hints::file(&repo.root, dirs.lesson.number).display(),
            missing.join("、")
        )
    }
}

enum Expect {
    FailsFirst,
    Passes,
}

fn graded(
    repo: &Repo,
    dirs: &LessonDirs,
    package: &str,
    target: &Path,
    expect: Expect,
) -> Result<()> {
    let exe = repo.build(package, target)?;
    let report = harness::run(dirs.lesson, &exe, package);
    match expect {
        Expect::FailsFirst => match report.steps.first().map(|s| &s.status) {
            Some(Status::Failed) => Ok(()),
            _ => bail!("第 1 项没有失败:\n{}", report.summary()),
        },
        Expect::Passes => match report.first_failure() {
            None => Ok(()),
            Some(_) => bail!("{}", report.explain()),
        },
    }
}

fn solutions_as_exercises(repo: &Repo, target: &Path) -> Result<()> {
    let work = TempDir::new("dev")?;
    copy_course(&repo.root, &work.0, &[])?;
    let copy = Repo::at(&work.0);
    // 单独的 target 目录:不要让这里编出来的 lesson-NN 覆盖真正骨架的程序。
    let target = target.join("solutions-as-exercises");
    for dirs in copy.lessons()? {
        let src = dirs.exercise.join("src");
        fs::remove_dir_all(&src)?;
        copy_dir(&dirs.solution.join("src"), &src)?;
        let exe = copy.build(&dirs.package(), &target)?;
        let report = harness::run(dirs.lesson, &exe, &dirs.package());
        if report.first_failure().is_some() {
            bail!(
                "{} 换上参考答案后没有通过:\n{}",
                dirs.package(),
                report.explain()
            );
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// dev new
// ---------------------------------------------------------------------------

/// 在 GitHub Classroom 的配置里给新的一课加一项(满分是起点评分器的 1 分,加了检查以后要改)。
fn register_in_classroom(repo: &Repo, number: &str) -> Result<()> {
    let path = repo.root.join(".github/classroom/classroom.yml");
    let mut text =
        fs::read_to_string(&path).with_context(|| format!("读不到 {}", path.display()))?;
    let id = format!("lesson-{number}");
    let step = format!(
        "      - name: 第 {n} 课\n        id: {id}\n        uses: classroom-resources/autograding-command-grader@v1\n        with:\n          test-name: 第 {n} 课\n          setup-command: ''\n          command: cd course && cargo run -q -p course -- grade --submission ../submission --lessons {number} --strict\n          timeout: 5\n          max-score: 1\n",
        n = number.trim_start_matches('0')
    );
    let reporter = text
        .find("      - name: 汇总分数")
        .context("classroom.yml 里没有「汇总分数」这一步")?;
    text.insert_str(reporter, &step);
    let runners = text
        .rfind("runners: ")
        .context("classroom.yml 里没有 runners")?;
    let line_end = runners + text[runners..].find('\n').unwrap_or(text.len() - runners);
    text.insert_str(line_end, &format!(",{id}"));
    let with = text
        .rfind("        with:\n          runners:")
        .context("classroom.yml 的汇总一步没有 with")?;
    text.insert_str(
        with,
        &format!(
            "          {}_RESULTS: \"${{{{steps.{id}.outputs.result}}}}\"\n",
            id.to_uppercase()
        ),
    );
    fs::write(&path, text)?;
    say!("  登记 .github/classroom/classroom.yml(满分先写 1;加了检查以后改成各项分值之和)");
    Ok(())
}

/// 把新的一课登记进书的目录:章节排在最后一课后面,参考答案讲解排在目录最后的
/// 「参考答案讲解」里(没有这一部分就加上)。
fn register_in_summary(text: &str, display: &str, name: &str) -> String {
    let answers = "# 参考答案讲解";
    let (lessons, rest) = match text.find(answers) {
        Some(at) => text.split_at(at),
        None => (text, ""),
    };
    let after_line =
        |text: &str, at: usize| text[at..].find('\n').map_or(text.len(), |n| at + n + 1);
    let mut lessons = lessons.to_owned();
    let at = lessons
        .rfind("课 · ")
        .map_or(lessons.len(), |at| after_line(&lessons, at));
    lessons.insert_str(at, &format!("- [第 {display} 课 · (标题)]({name}.md)\n"));
    let entry = format!("- [第 {display} 课 · 参考答案讲解]({name}-answer.md)\n");
    let mut rest = if rest.is_empty() {
        format!("\n{answers}\n\n")
    } else {
        rest.to_owned()
    };
    if !rest.ends_with('\n') {
        rest.push('\n');
    }
    rest.push_str(&entry);
    lessons + &rest
}

fn new_lesson(repo: &Repo, name: &str) -> Result<ExitCode> {
    let Some((number, slug)) = name.split_once('-') else {
        bail!("名字要像 07-udp-broadcast:两位课号、一个短横线、英文名");
    };
    if number.len() != 2 || !number.chars().all(|c| c.is_ascii_digit()) || slug.is_empty() {
        bail!("名字要像 07-udp-broadcast:两位课号、一个短横线、英文名");
    }
    if harness::lesson(number).is_some() {
        bail!("第 {number} 课已经有了");
    }
    let display = number.trim_start_matches('0');
    let chapter = format!("book/src/{name}.md");
    let solution = repo.root.join("solutions").join(name);
    let exercise = repo.root.join("lessons").join(name);
    for dir in [&solution, &exercise] {
        if dir.exists() {
            bail!("{} 已经存在", dir.display());
        }
    }
    let fill = |template: &str| {
        template
            .replace("{{NN}}", number)
            .replace("{{N}}", display)
            .replace("{{NAME}}", name)
            .replace("{{CHAPTER}}", &chapter)
    };
    let write = |path: &Path, text: &str| -> Result<()> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::write(path, text).with_context(|| format!("无法写入 {}", path.display()))?;
        say!(
            "  新建 {}",
            path.strip_prefix(&repo.root).unwrap_or(path).display()
        );
        Ok(())
    };

    write(
        &solution.join("Cargo.toml"),
        &fill(include_str!("../templates/solution.Cargo.toml")),
    )?;
    write(
        &solution.join("src/main.rs"),
        &fill(include_str!("../templates/main.rs")),
    )?;
    write(
        &solution.join("skeleton.txt"),
        &fill(include_str!("../templates/skeleton.txt")),
    )?;
    let grade_rs = fill(include_str!("../templates/grade.rs"));
    write(&solution.join("tests/grade.rs"), &grade_rs)?;
    write(&exercise.join("tests/grade.rs"), &grade_rs)?;
    write(
        &exercise.join("Cargo.toml"),
        &fill(include_str!("../templates/solution.Cargo.toml"))
            .replace(&format!("solution-{number}"), &format!("lesson-{number}"))
            .replace("参考答案", "练习"),
    )?;
    for (rel, text) in skeleton::generate_src(&solution)? {
        write(&exercise.join(rel), &text)?;
    }
    write(
        &repo.root.join(format!("tests/src/lesson{number}.rs")),
        &fill(include_str!("../templates/lesson.rs")),
    )?;
    write(
        &repo.root.join(&chapter),
        &fill(include_str!("../templates/chapter.md")),
    )?;
    write(
        &repo.root.join(format!("book/src/{name}-answer.md")),
        &fill(include_str!("../templates/answer.md")),
    )?;
    write(
        &hints::file(&repo.root, number),
        &fill(include_str!("../templates/hints.md")),
    )?;

    // 登记:评分框架的课程表和书的目录。
    let lib = repo.root.join("tests/src/lib.rs");
    let text = fs::read_to_string(&lib)?;
    let last_mod = text
        .rfind("pub mod lesson")
        .context("tests/src/lib.rs 里没有 pub mod lessonNN")?;
    let line_end = last_mod + text[last_mod..].find('\n').unwrap_or(0) + 1;
    let mut text = format!(
        "{}pub mod lesson{number};\n{}",
        &text[..line_end],
        &text[line_end..]
    );
    let list_end = text
        .rfind("];")
        .context("tests/src/lib.rs 里没有 LESSONS 列表")?;
    text.insert_str(list_end, &format!("    &lesson{number}::LESSON,\n"));
    fs::write(&lib, text)?;
    say!("  登记 tests/src/lib.rs");
    let summary = repo.root.join("book/src/SUMMARY.md");
    let text = fs::read_to_string(&summary)?;
    fs::write(&summary, register_in_summary(&text, display, name))?;
    say!("  登记 book/src/SUMMARY.md");
    register_in_classroom(repo, number)?;

    say!(
        "\n第 {display} 课的起点建好了:一个打印地址、接受连接的 TCP 服务器,评分器只有一项检查。\n\
         接下来(见课本「怎样新加一课」):\n\
         1. 在 solutions/{name}/src/ 里写参考答案,学员要写的部分用 // ANCHOR: step-N 和 // ANCHOR_END: step-N 包起来;\n\
         2. 在 solutions/{name}/skeleton.txt 里写每一步的 TODO,运行 cargo run -p course -- dev skeleton {number};\n\
         3. 在 tests/src/lesson{number}.rs 里加检查,在 {chapter} 里写课文,在 tools/course/hints/{number}.md 里写提示;\n\
         4. cargo run -p course -- dev check,直到全部通过。"
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::register_in_summary;

    /// 新的一课排在最后一课后面,它的参考答案讲解排在目录最后的「参考答案讲解」里。
    #[test]
    fn a_new_lesson_and_its_answers_go_where_readers_expect_them() {
        let summary = "# 目录\n\n- [第 6 课 · 多人聊天室](06-chat.md)\n- [容量](capacity.md)\n\n\
                       # 附录\n\n- [给老师](teachers.md)\n\n# 参考答案讲解\n\n\
                       - [第 6 课 · 参考答案讲解](06-chat-answer.md)\n";
        let updated = register_in_summary(summary, "7", "07-udp-broadcast");
        assert_eq!(
            updated,
            "# 目录\n\n- [第 6 课 · 多人聊天室](06-chat.md)\n\
             - [第 7 课 · (标题)](07-udp-broadcast.md)\n- [容量](capacity.md)\n\n\
             # 附录\n\n- [给老师](teachers.md)\n\n# 参考答案讲解\n\n\
             - [第 6 课 · 参考答案讲解](06-chat-answer.md)\n\
             - [第 7 课 · 参考答案讲解](07-udp-broadcast-answer.md)\n"
        );
        let without_answers = register_in_summary("- [第 1 课 · 甲](01-a.md)\n", "2", "02-b");
        assert_eq!(
            without_answers,
            "- [第 1 课 · 甲](01-a.md)\n- [第 2 课 · (标题)](02-b.md)\n\n# 参考答案讲解\n\n\
             - [第 2 课 · 参考答案讲解](02-b-answer.md)\n"
        );
    }
}
