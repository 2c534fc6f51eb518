//! `confine gpu`: what a strict snap gets of this machine's GPU driver, and
//! why. It asks the launcher's own survey (the same code, the same checks),
//! so what it prints is what the next namespace built here will hold.

use confine::cgroup::devices::optional_nodes;
use confine::gpu::{self, Farm, GpuPlan, Libraries};
use confine::sys::linux::LinuxSys;
use serde_json::{json, Value};

pub const HELP: &str = "\
Usage: confine gpu [--base BASE] [--json]

Prints what a strict snap would get of this machine's GPU driver: the NVIDIA
driver's version and where it was read, where its libraries were found and the
rule that chose them, each link the launcher puts in /var/lib/snapd/lib/gl
(and gl32, vulkan, glvnd) with its target and why it is there, the Vulkan and
EGL files, the device nodes, and everything passed over with the reason.

  --base BASE   the snap's base (default core22); base core also gets the
                glvnd libraries, as snap-confine gives them
  --json        the same as JSON

A snap sees the libraries only with the opengl interface connected.
";

struct Options {
    base: String,
    json: bool,
}

fn options(args: &[String]) -> Result<Options, String> {
    let mut o = Options { base: "core22".into(), json: false };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" => o.json = true,
            "--base" => o.base = it.next().cloned().ok_or("cannot run gpu: --base needs a value")?,
            b if b.starts_with("--base=") => o.base = b.trim_start_matches("--base=").into(),
            other => return Err(format!("cannot run gpu: unknown argument {other:?} (see confine gpu --help)")),
        }
    }
    Ok(o)
}

fn farm_json(f: &Farm) -> Value {
    let links: Vec<Value> = f
        .links
        .iter()
        .map(|l| json!({"name": l.name, "target": l.target, "host-file": l.host_file, "reason": l.reason.to_string()}))
        .collect();
    json!({"dir": f.dir, "sources": f.sources, "links": links, "notes": f.notes})
}

fn libraries_json(l: &Libraries) -> Value {
    match l {
        Libraries::Farms { rule, gl, gl32 } => {
            let farms: Vec<Value> = std::iter::once(gl).chain(gl32.iter()).filter(|f| !f.sources.is_empty()).map(farm_json).collect();
            json!({"kind": "farm", "rule": rule.to_string(), "farms": farms})
        }
        Libraries::Bind { gl, gl32 } => {
            let binds: Vec<Value> = [gl, gl32].into_iter().flatten().map(|b| json!({"source": b.source, "target": b.target})).collect();
            json!({"kind": "bind", "rule": gpu::Rule::FallbackBind.to_string(), "binds": binds})
        }
        Libraries::Nothing => json!({"kind": "none"}),
    }
}

struct Node {
    path: String,
    device: String,
}

fn nodes() -> Vec<Node> {
    optional_nodes(&LinuxSys::new())
        .into_iter()
        .filter(|(p, _)| p.starts_with("/dev/nvidia"))
        .map(|(path, rule)| Node { path, device: rule.to_string() })
        .collect()
}

fn nodes_json(nodes: &[Node]) -> Vec<Value> {
    nodes.iter().map(|n| json!({"path": n.path, "device": n.device})).collect()
}

fn print_farm(f: &Farm, what: &str) {
    if f.sources.is_empty() {
        return;
    }
    println!("{what} in {} ({} links), from {}:", f.dir, f.links.len(), f.sources.join(", "));
    let width = f.links.iter().map(|l| l.name.len()).max().unwrap_or(0);
    for l in &f.links {
        println!("  {:<width$}  -> {}  ({})", l.name, l.target, l.reason);
    }
}

fn print_plan(plan: &GpuPlan, nodes: &[Node]) {
    println!("NVIDIA driver {} (from {})", plan.version.raw, plan.version_file);
    match &plan.libraries {
        Libraries::Farms { rule, gl, gl32 } => {
            println!("Libraries: {rule}");
            print_farm(gl, "Libraries");
            if let Some(f) = gl32 {
                print_farm(f, "32-bit libraries");
            }
        }
        Libraries::Bind { gl, gl32 } => {
            println!("Libraries: {}", gpu::Rule::FallbackBind);
            for b in [gl, gl32].into_iter().flatten() {
                println!("  {} bound read-only on {}", b.source, b.target);
            }
        }
        Libraries::Nothing => println!("Libraries: none found"),
    }
    if let Some(f) = &plan.vulkan {
        print_farm(f, "Vulkan");
    }
    if let Some(f) = &plan.egl {
        print_farm(f, "EGL");
    }
    println!("Device nodes (in every device cgroup; opened with the opengl interface):");
    for n in nodes {
        println!("  {} ({})", n.path, n.device);
    }
    if !plan.notes.is_empty() {
        println!("Passed over:");
        for n in &plan.notes {
            println!("  {n}");
        }
    }
}

pub fn run(args: &[String]) -> Result<(), String> {
    let o = options(args)?;
    let mut notes = Vec::new();
    let plan = gpu::survey(&LinuxSys::new(), &o.base, &mut |n| notes.push(n)).map_err(|e| e.to_string())?;
    let nodes = nodes();
    match (plan, o.json) {
        (Some(plan), false) => print_plan(&plan, &nodes),
        (Some(plan), true) => {
            let v = json!({
                "driver": {"version": plan.version.raw, "major": plan.version.major, "read-from": plan.version_file},
                "libraries": libraries_json(&plan.libraries),
                "vulkan": plan.vulkan.as_ref().map(farm_json),
                "egl": plan.egl.as_ref().map(farm_json),
                "devices": nodes_json(&nodes),
                "notes": plan.notes,
            });
            println!("{}", serde_json::to_string_pretty(&v).map_err(|e| format!("cannot write JSON: {e}"))?);
        }
        (None, false) => {
            println!("No NVIDIA driver is loaded ({} does not exist): snaps get no GPU libraries.", gpu::version::VERSION_FILE);
            for n in &notes {
                println!("  {n}");
            }
        }
        (None, true) => {
            let v = json!({"driver": null, "notes": notes, "devices": nodes_json(&nodes)});
            println!("{}", serde_json::to_string_pretty(&v).map_err(|e| format!("cannot write JSON: {e}"))?);
        }
    }
    Ok(())
}
