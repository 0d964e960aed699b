"""The Brody lab's element pipeline as the element workflows activate it (the oracle of
tests/integration/elements_ephys.rs): element-lab, element-animal's subject,
element-session's session_with_datetime, the workflows' SkullReference, and
element-array-ephys's ephys_chronic + probe, all under dj_local_conf.json's
custom.database.prefix. KS_ROOT is the root data directory."""
import os

import datajoint as dj
from element_animal import subject
from element_array_ephys import ephys_chronic as ephys
from element_array_ephys import probe  # noqa: F401
from element_lab import lab
from element_session import session_with_datetime as session

prefix = dj.config["custom"]["database.prefix"]
lab.activate(prefix + "lab")
Source, Lab, Protocol, User, Project = lab.Source, lab.Lab, lab.Protocol, lab.User, lab.Project
Experimenter = lab.User
subject.activate(prefix + "subject", linking_module=__name__)
Subject = subject.Subject
session.activate(prefix + "session", linking_module=__name__)
Session = session.Session


@lab.schema
class SkullReference(dj.Lookup):
    definition = """
    skull_reference   : varchar(60)
    """
    contents = zip(["Bregma", "Lambda"])


def get_ephys_root_data_dir():
    return [os.environ["KS_ROOT"]]


def get_session_directory(session_key):
    return os.environ["KS_ROOT"]


ephys.activate(prefix + "ephys", prefix + "probe", linking_module=__name__)
