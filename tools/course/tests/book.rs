//! `course book`:构建课本、建搜索索引,再用它自己的小服务器经本机回环地址提供。
//!
//! 每个测试在临时目录里放一个最小的课程仓库。服务器用 `-p 0` 启动,测试读它打印的地址,
//! 在期限内等这一行(不用 sleep);服务器在测试结束时被结束。构建的测试用假的 mdbook、
//! mdbook-mermaid 和 pagefind(记下自己被怎样调用的小脚本),真的工具由 CI 用真的书来试
//! (.ci/run:只装 README 里的工具构建一次,再装上链接检查构建一次,然后在浏览器里看)。

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use harness::text::find_socket_addr;

const COURSE: &str = env!("CARGO_BIN_EXE_course");
/// 等服务器打印地址、等一个回复,都最多等这么久。
const LIMIT: Duration = Duration::from_secs(15);

/// 临时目录里的一个最小课程仓库(`course` 认得出它是仓库根目录),drop 时删掉。
struct ScratchRepo(PathBuf);

impl ScratchRepo {
    fn new(label: &str) -> ScratchRepo {
        let root = std::env::temp_dir().join(format!("course-book-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for dir in ["lessons", "solutions", "book"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        std::fs::write(root.join("Cargo.toml"), "[workspace]\n").unwrap();
        ScratchRepo(root)
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.0.join(relative)
    }

    fn write(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// 在这个仓库里准备运行 course(stdin 为空)。
    fn course(&self, args: &[&str]) -> Command {
        let mut command = Command::new(COURSE);
        command
            .args(args)
            .current_dir(&self.0)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        command
    }
}

impl Drop for ScratchRepo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// 运行中的 `course book --serve`;drop 时结束它。
struct Server {
    child: Child,
    addr: SocketAddr,
    /// stdout 的一行一行,由后台线程读出来。
    lines: mpsc::Receiver<String>,
}

impl Server {
    /// 在 `repo` 里运行 `course book --serve --no-build -p 0 额外的参数…`,等它在 stdout 的第一行
    /// 打印地址(最多 LIMIT)。`path` 不是 None 时,用它作为 PATH。
    fn start(repo: &ScratchRepo, extra: &[&str], path: Option<&str>) -> Server {
        let mut command = repo.course(&["book", "--serve", "--no-build", "-p", "0"]);
        command.args(extra);
        if let Some(path) = path {
            command.env("PATH", path);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("能运行 course book");
        let stdout = child.stdout.take().expect("stdout 是 piped 的");
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // 地址先占个位:等第一行时出了错(panic),drop 也要结束服务器。
        let mut server = Server {
            child,
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            lines,
        };
        let line = server.next_line();
        assert!(line.contains("在浏览器里打开 http://"), "{line}");
        server.addr = find_socket_addr(&line).expect("第一行里有地址");
        server
    }

    /// 服务器 stdout 的下一行,最多等 LIMIT。
    fn next_line(&self) -> String {
        self.lines
            .recv_timeout(LIMIT)
            .expect("期限内没有等到服务器的下一行输出")
    }

    /// 发一个请求,读到服务器关闭连接:(状态码, 请求头, 正文)。
    fn request(&self, method: &str, target: &str) -> (u16, String, Vec<u8>) {
        let mut stream = TcpStream::connect_timeout(&self.addr, LIMIT).expect("连得上");
        stream.set_read_timeout(Some(LIMIT)).unwrap();
        write!(
            stream,
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nUser-Agent: test\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut response = Vec::new();
        stream
            .read_to_end(&mut response)
            .expect("服务器回答完就关闭连接");
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("回复有请求头");
        let head = String::from_utf8(response[..split].to_vec()).expect("请求头是 UTF-8");
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("状态行里有状态码");
        (status, head, response[split + 4..].to_vec())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// 一本「构建好的」小书。
fn built_book(repo: &ScratchRepo) {
    repo.write("book/book/html/index.html", "<h1>前言</h1>");
    repo.write(
        "book/book/html/04-tcp-server.html",
        "<h1>第 4 课 · TCP 服务器</h1>",
    );
    repo.write("book/book/html/404.html", "<h1>找不到这一页</h1>");
    repo.write("book/book/html/pagefind/pagefind.js", "export {};");
    repo.write("secret.txt", "书以外的文件");
}

/// 服务器只监听 127.0.0.1,把书里的文件原样送出去,Content-Type 对;查询串(搜索框用它)
/// 不影响找文件;找不到的给 404 页;`..` 出不了书的目录;HEAD 没有正文;别的方法被拒绝。
#[test]
fn the_server_serves_the_built_book_on_loopback() {
    let repo = ScratchRepo::new("serve");
    built_book(&repo);
    let chapter = "<h1>第 4 课 · TCP 服务器</h1>";
    let server = Server::start(&repo, &[], None);
    assert!(server.addr.ip().is_loopback(), "{}", server.addr);

    let (status, head, body) = server.request("GET", "/");
    assert_eq!(status, 200, "{head}");
    assert_eq!(body, "<h1>前言</h1>".as_bytes());

    let (status, head, body) = server.request("GET", "/04-tcp-server.html?q=%E7%B2%98%E5%8C%85");
    assert_eq!(status, 200, "{head}");
    assert!(
        head.contains("Content-Type: text/html; charset=utf-8"),
        "{head}"
    );
    assert!(
        head.contains(&format!("Content-Length: {}", body.len())),
        "{head}"
    );
    assert_eq!(body, chapter.as_bytes());

    let (status, head, _) = server.request("GET", "/pagefind/pagefind.js");
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("Content-Type: text/javascript"), "{head}");

    let (status, head, body) = server.request("GET", "/pagefind");
    assert_eq!(status, 301, "{head}");
    assert!(head.contains("Location: /pagefind/"), "{head}");
    assert!(!body.is_empty());

    for target in [
        "/missing.html",
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/../../secret.txt",
    ] {
        let (status, head, body) = server.request("GET", target);
        assert_eq!(status, 404, "{target}\n{head}");
        assert_eq!(body, "<h1>找不到这一页</h1>".as_bytes(), "{target}");
    }

    let (status, head, body) = server.request("HEAD", "/04-tcp-server.html");
    assert_eq!(status, 200, "{head}");
    let length = format!("Content-Length: {}", chapter.len());
    assert!(head.contains(&length), "{head}");
    assert!(body.is_empty(), "HEAD 不带正文");

    let (status, head, _) = server.request("POST", "/");
    assert_eq!(status, 405, "{head}");
}

/// 还没构建过就要 --no-build:说清楚怎么办,退出码 1,不监听任何端口。
#[test]
fn serving_an_unbuilt_book_says_to_build_it() {
    let repo = ScratchRepo::new("unbuilt");
    let out = repo
        .course(&["book", "--serve", "--no-build", "-p", "0"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("没有构建好的书"), "{stderr}");
    assert!(stderr.contains("去掉 --no-build"), "{stderr}");
}

/// 工具没装:说出 README「读课本」里装它的那条命令(一字不差),退出码 1。
#[test]
fn a_missing_tool_names_the_readmes_install_command() {
    let repo = ScratchRepo::new("missing");
    let empty = repo.path("empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    let out = repo.course(&["book"]).env("PATH", &empty).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("找不到 mdbook-mermaid"), "{stderr}");
    assert_readme_has_the_install_command(&stderr);
}

/// 失败信息里的 `cargo install …` 那一行,README 里也有。
fn assert_readme_has_the_install_command(message: &str) {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let command = message
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("cargo install"))
        .unwrap_or_else(|| panic!("没有说怎么安装:{message}"));
    assert!(
        readme.lines().any(|l| l.starts_with(command)),
        "README 里没有「{command}」"
    );
}

/// 用假的工具构建:先生成 mermaid.min.js(只在没有的时候),在 book/ 里 `mdbook build .`,
/// 再给一份去掉了 print.html、index.html、404.html、toc.html 和参考答案讲解的副本建索引,
/// 索引写进 book/book/html/pagefind(旧的先删掉)。工具找不到时说出 README 里的安装命令。
#[cfg(unix)]
#[test]
fn building_runs_the_readmes_tools_and_indexes_only_the_chapters() {
    use std::os::unix::fs::PermissionsExt;

    let repo = ScratchRepo::new("build");
    let bin = repo.path("fake-bin");
    let log = repo.path("calls.log");
    let tool = |name: &str, script: &str| {
        let path = bin.join(name);
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\necho \"{name} $* @ $PWD\" >> '{}'\n{script}",
                log.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    tool("mdbook-mermaid", "echo > mermaid.min.js\n");
    tool(
        "mdbook",
        "mkdir -p book/html\nfor f in index.html print.html 404.html toc.html \
         04-tcp-server.html 04-tcp-server-answer.html; do echo x > book/html/$f; done\n",
    );
    let path = format!("{}:/usr/bin:/bin", bin.display());
    // 上一次构建留下的索引要被删掉,不能和新的混在一起。
    repo.write("book/book/html/pagefind/stale.js", "");

    let indexed = repo.path("indexed.txt");
    tool(
        "pagefind",
        &format!(
            "while [ $# -gt 0 ]; do case $1 in --site) site=$2;; --output-path) out=$2;; esac; shift; done\n\
             ls \"$site\" > '{}'\nmkdir -p \"$out\" && echo > \"$out/pagefind.js\"\n",
            indexed.display()
        ),
    );
    let out = repo.course(&["book"]).env("PATH", &path).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // course 用的是仓库根目录的规范路径(macOS 的 /tmp 是个符号链接)。
    let book = repo.path("book").canonicalize().unwrap();
    let html = book.join("book/html");
    assert!(
        stdout.contains(&format!("课本已构建好:{}", html.display())),
        "{stdout}"
    );

    let calls = std::fs::read_to_string(&log).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert_eq!(
        calls[0],
        format!("mdbook-mermaid install . @ {}", book.display())
    );
    assert_eq!(calls[1], format!("mdbook build . @ {}", book.display()));
    assert!(calls[2].starts_with("pagefind --site "), "{calls:?}");
    assert!(
        calls[2].contains("--output-path book/html/pagefind")
            && calls[2].contains("--root-selector #mdbook-content main"),
        "{calls:?}"
    );
    let indexed = std::fs::read_to_string(&indexed).unwrap();
    assert_eq!(indexed.trim(), "04-tcp-server.html", "只有章节进索引");
    assert!(html.join("pagefind/pagefind.js").is_file());
    assert!(!html.join("pagefind/stale.js").exists(), "旧的索引被删掉了");
    // 副本用完就删了,书本身一页不少。
    assert!(html.join("print.html").is_file() && html.join("04-tcp-server-answer.html").is_file());

    // mermaid.min.js 已经有了:不再生成。
    std::fs::remove_file(&log).unwrap();
    let out = repo.course(&["book"]).env("PATH", &path).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let calls = std::fs::read_to_string(&log).unwrap();
    assert!(!calls.contains("mdbook-mermaid"), "{calls}");

    // 没装 pagefind。
    std::fs::remove_file(bin.join("pagefind")).unwrap();
    let out = repo.course(&["book"]).env("PATH", &path).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("找不到 pagefind"), "{stderr}");
    assert_readme_has_the_install_command(&stderr);
}

/// README 的「读课本」一节,读书的命令是 `course book`:PowerShell 里也能运行,不需要 bash 和 Python。
/// (这条命令 course 认得,由 cli.rs 的 every_course_command_in_the_readme_and_the_book_is_accepted 核对。)
#[test]
fn the_readmes_book_section_reads_the_book_with_course_book() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("读课本"))
        .expect("README 有「读课本」一节");
    let block = section
        .split("```text\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("「读课本」一节有一个命令块");
    let commands: Vec<&str> = block
        .lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .collect();
    assert!(
        commands
            .iter()
            .any(|c| c.starts_with("cargo run -p course -- book")),
        "{block}"
    );
    for command in commands {
        assert!(
            command.starts_with("cargo "),
            "「读课本」的命令块里只该有 cargo 命令(Windows 上没有 bash、python3):{command}"
        );
    }
}

/// `--open`:书提供着,再用系统的命令(Linux 上是 xdg-open,这里换成一个记下参数的假命令)
/// 打开 `http://127.0.0.1:端口/`,说一声打开了;打不开(没有这个命令)时说请自己打开,书照样提供。
#[cfg(target_os = "linux")]
#[test]
fn open_asks_the_system_to_open_the_books_address() {
    use std::os::unix::fs::PermissionsExt;

    let repo = ScratchRepo::new("open");
    built_book(&repo);
    let bin = repo.path("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let opened = repo.path("opened.txt");
    let opener = bin.join("xdg-open");
    std::fs::write(
        &opener,
        format!("#!/bin/sh\necho \"$*\" > '{}'\n", opened.display()),
    )
    .unwrap();
    std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.display());

    let server = Server::start(&repo, &["--open"], Some(&path));
    let url = format!("http://{}/", server.addr);
    assert_eq!(server.next_line(), format!("已经请浏览器打开 {url}"));
    assert_eq!(std::fs::read_to_string(&opened).unwrap().trim(), url);
    let (status, _, _) = server.request("GET", "/");
    assert_eq!(status, 200);
    drop(server);

    // 没有 xdg-open(PATH 里只有一个空目录):说请自己打开,书照样提供。
    let empty = repo.path("empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    let server = Server::start(&repo, &["--open"], Some(&empty.display().to_string()));
    let url = format!("http://{}/", server.addr);
    assert_eq!(
        server.next_line(),
        format!("没能自动打开浏览器(xdg-open):请自己在浏览器里打开 {url}")
    );
    let (status, _, _) = server.request("GET", "/");
    assert_eq!(status, 200);
}
